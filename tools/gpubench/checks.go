//go:build cgo

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/internal/golden"
	"github.com/tessera/tessera/internal/weights"
)

// weightFiles finds the shared models and their golden outputs: in the
// folder given, else in the repository (the default model and its golden
// copies ship there), paths relative to the repository root.
type weightFiles struct{ dir string }

func (w weightFiles) model(name string) (string, error) {
	p, err := weights.ResolveName(name, w.dir)
	if err != nil && w.dir != "" {
		p, err = weights.ResolveName(name, "weights")
	}
	return p, err
}

// load reads a shared model with its graph outputs as features.
func (w weightFiles) load(net golden.Net) (*backbone.Model, error) {
	path, err := w.model(net.File)
	if err != nil {
		return nil, err
	}
	return backbone.LoadFile(path, backbone.Options{})
}

func (w weightFiles) golden(net golden.Net) (string, error) {
	for _, p := range []string{filepath.Join(w.dir, "golden", net.Dir), filepath.Join("internal", "golden", "testdata", net.Dir)} {
		if _, err := os.Stat(filepath.Join(p, "input.npy")); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no golden outputs for %s in %q or internal/golden/testdata", net.Dir, w.dir)
}

// GoldenResult is one feature map of a shared model computed through
// WebGPU against ONNX Runtime's.
type GoldenResult struct {
	Model   string  `json:"model"`
	Feature string  `json:"feature"`
	Shape   []int   `json:"shape"`
	RelL2   float64 `json:"rel_l2"`
	Pass    bool    `json:"pass"`
}

func (r *Report) golden(w weightFiles) error {
	for _, net := range golden.Nets {
		dir, err := w.golden(net)
		if err != nil {
			return err
		}
		m, err := w.load(net)
		if err != nil {
			return err
		}
		x, shape, err := npy.ReadFile(filepath.Join(dir, "input.npy"))
		if err != nil {
			return err
		}
		e, err := m.NewExecutor(r.gpu)
		if err != nil {
			return err
		}
		feats, err := e.Run(x, shape)
		if err != nil {
			return fmt.Errorf("%s on WebGPU: %w", net.File, err)
		}
		for _, f := range feats {
			want, wshape, err := npy.ReadFile(filepath.Join(dir, f.Name+".npy"))
			if err != nil {
				return err
			}
			res := GoldenResult{Model: net.File, Feature: f.Name, Shape: f.Shape}
			if slices.Equal(f.Shape, wshape) {
				res.RelL2 = golden.RelL2(f.Data, want)
				res.Pass = res.RelL2 <= golden.Tolerance
			} else {
				res.RelL2 = math.Inf(1)
			}
			r.Golden = append(r.Golden, res)
			r.logf("golden %s %s %v: relative L2 error %.2e (limit %g)", net.Dir, f.Name, f.Shape, res.RelL2, golden.Tolerance)
			if !res.Pass {
				r.fail("golden %s %s: relative L2 error %.2e, shape %v (want %v)", net.Dir, f.Name, res.RelL2, f.Shape, wshape)
			}
		}
	}
	return nil
}

// GEMMResult is C = A x B (M x K times K x N) on one backend.
type GEMMResult struct {
	Backend  string  `json:"backend"`
	M        int     `json:"m"`
	K        int     `json:"k"`
	N        int     `json:"n"`
	MedianMS float64 `json:"median_ms"`
	TFLOPs   float64 `json:"tflop_per_s"`
	RelL2    float64 `json:"rel_l2_vs_cpu,omitempty"`
}

func (r *Report) gemm(quick bool) error {
	sizes := [][3]int{{1024, 1024, 1024}, {4096, 1024, 1024}, {8192, 1024, 8192}}
	runs := 10
	if quick {
		sizes, runs = [][3]int{{256, 256, 256}, {1024, 256, 256}, {1024, 256, 1024}}, 2
	}
	c := cpu.New(0)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range sizes {
		m, k, n := sz[0], sz[1], sz[2]
		a, b := random(rng, m*k), random(rng, k*n)
		var want []float32
		for _, be := range []struct {
			b    compute.Backend
			sync func() error
		}{{c, func() error { return nil }}, {r.gpu, r.gpu.Finish}} {
			ta, tb := be.b.Upload([]int{m, k}, a), be.b.Upload([]int{k, n}, b)
			ms, err := timed(1, runs, func() error {
				be.b.Release(be.b.MatMul(ta, tb))
				return be.sync()
			})
			var got []float32
			if err == nil {
				out := be.b.MatMul(ta, tb)
				got, err = be.b.Download(out)
				be.b.Release(out)
			}
			be.b.Release(ta)
			be.b.Release(tb)
			if err != nil {
				return fmt.Errorf("%dx%dx%d on %s: %w", m, k, n, be.b.Name(), err)
			}
			res := GEMMResult{Backend: be.b.Name(), M: m, K: k, N: n, MedianMS: ms, TFLOPs: 2 * float64(m*k*n) / (ms / 1e3) / 1e12}
			if want == nil {
				want = got
			} else {
				res.RelL2 = golden.RelL2(got, want)
				if res.RelL2 > 1e-5 {
					r.fail("GEMM %dx%dx%d on WebGPU: relative L2 error %.2e against the CPU", m, k, n, res.RelL2)
				}
			}
			r.GEMM = append(r.GEMM, res)
			r.logf("gemm %5dx%5dx%5d %-60s %9.2f ms %8.3f TFLOP/s", m, k, n, be.b.Name(), ms, res.TFLOPs)
		}
	}
	return nil
}

// timed runs f warm times, then runs times, and returns the median
// milliseconds of the timed runs.
func timed(warm, runs int, f func() error) (float64, error) {
	for range warm {
		if err := f(); err != nil {
			return 0, err
		}
	}
	ms := make([]float64, runs)
	for i := range ms {
		t0 := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ms[i] = time.Since(t0).Seconds() * 1e3
	}
	slices.Sort(ms)
	return inspector.Median(ms), nil
}

func random(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}
