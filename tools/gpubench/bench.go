//go:build cgo

package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/compute/webgpu"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/internal/golden"
)

// BackboneRow is one model's forward pass at one batch size on one
// backend, per image.
type BackboneRow struct {
	Model      string  `json:"model"`
	Backend    string  `json:"backend"`
	Batch      int     `json:"batch"`
	MSPerImage float64 `json:"ms_per_image"`
	GFLOPs     float64 `json:"gflop_per_s"`
}

// forward times m's forward pass of batch images on b: the median
// milliseconds per image.
func forward(m *backbone.Model, b compute.Backend, batch, warm, runs int) (float64, error) {
	e, err := m.NewExecutor(b)
	if err != nil {
		return 0, err
	}
	ms, err := inspector.TimeForward(e, batch, warm, runs)
	if err != nil {
		return 0, err
	}
	return inspector.Median(ms), nil
}

func (r *Report) backbones(w weightFiles, batches []int, quick bool) error {
	warm, runs := 3, 10
	if quick {
		warm, runs = 1, 2
	}
	c := cpu.New(0)
	r.CPU = c.Name()
	for _, net := range golden.Nets {
		m, err := w.load(net)
		if err != nil {
			return err
		}
		for _, batch := range batches {
			for _, b := range []compute.Backend{r.gpu, c} {
				ms, err := forward(m, b, batch, warm, runs)
				if err != nil {
					return fmt.Errorf("%s at batch %d on %s: %w", net.File, batch, b.Name(), err)
				}
				row := BackboneRow{Model: net.File, Backend: b.Name(), Batch: batch, MSPerImage: ms, GFLOPs: m.FLOPs() / 1e9 / (ms / 1e3)}
				r.Backbone = append(r.Backbone, row)
				r.logf("backbone %-26s batch %3d %-60s %9.3f ms/image %8.1f GFLOP/s", net.File, batch, b.Name(), ms, row.GFLOPs)
			}
		}
	}
	return nil
}

// SubmitRow is ResNet-50 v2's forward pass with one setting of
// webgpu.Options.SubmitEvery.
type SubmitRow struct {
	Model       string  `json:"model"`
	Batch       int     `json:"batch"`
	SubmitEvery int     `json:"submit_every"`
	MSPerImage  float64 `json:"ms_per_image"`
}

// submitEvery times the backbone with kernels submitted 1 to 256 at a
// time: the figure DefaultSubmitEvery should be set from.
func (r *Report) submitEvery(w weightFiles, quick bool) error {
	net, batches, settings, warm, runs := golden.Nets[0], []int{1, 32}, []int{1, 4, 16, 64, 256}, 3, 10
	if quick {
		net, batches, settings, warm, runs = golden.MobileNetV2, []int{4}, []int{1, 16, 64}, 1, 2
	}
	m, err := w.load(net)
	if err != nil {
		return err
	}
	for _, every := range settings {
		g, err := webgpu.New(webgpu.Options{AllowCPUAdapter: r.Software, SubmitEvery: every})
		if err != nil {
			return err
		}
		for _, batch := range batches {
			ms, err := forward(m, g, batch, warm, runs)
			if err != nil {
				g.Close()
				return err
			}
			r.Submit = append(r.Submit, SubmitRow{Model: net.File, Batch: batch, SubmitEvery: every, MSPerImage: ms})
			r.logf("submit every %3d: %s batch %d %9.3f ms/image", every, net.File, batch, ms)
		}
		g.Close()
	}
	return nil
}

// SearchResult is the nearest bank vector of every query, brute force,
// on one backend.
type SearchResult struct {
	Backend   string  `json:"backend"`
	Bank      int     `json:"bank_vectors"`
	Dim       int     `json:"dim"`
	Queries   int     `json:"queries"`
	MedianMS  float64 `json:"median_ms"`
	MSPerImg  float64 `json:"ms_per_image"` // per 784 queries (a 28x28 patch grid)
	MaxRelErr float64 `json:"max_rel_err_vs_cpu,omitempty"`
}

// search times brute-force 1-NN of 8 images' patches (28x28 each) in a
// bank of 50,000 random 1024-value vectors: brute force does the same
// work whatever the values.
func (r *Report) search(quick bool) error {
	n, d, nq, runs := 50000, 1024, 8*784, 5
	if quick {
		n, nq, runs = 4096, 784, 2
	}
	rng := rand.New(rand.NewPCG(5, 6))
	bank, queries := random(rng, n*d), random(rng, nq*d)
	c := cpu.New(0)
	var want []float32
	for _, b := range []compute.Backend{c, r.gpu} {
		ix := b.PrepareIndex(bank, n, d)
		var got []float32
		ms, err := timed(1, runs, func() (err error) {
			got, err = b.Nearest(ix, queries, nq, 1)
			return err
		})
		if err != nil {
			return fmt.Errorf("on %s: %w", b.Name(), err)
		}
		res := SearchResult{Backend: b.Name(), Bank: n, Dim: d, Queries: nq, MedianMS: ms, MSPerImg: ms * 784 / float64(nq)}
		if want == nil {
			want = got
		} else {
			for i := range want {
				res.MaxRelErr = max(res.MaxRelErr, math.Abs(float64(got[i]-want[i]))/(1+math.Abs(float64(want[i]))))
			}
			if res.MaxRelErr > 1e-4 {
				r.fail("search on WebGPU: nearest distances differ from the CPU's by %.2e (relative)", res.MaxRelErr)
			}
		}
		r.Search = append(r.Search, res)
		r.logf("search %d x %d bank, %d queries, %-60s %9.2f ms (%.2f ms an image)", n, d, nq, b.Name(), ms, res.MSPerImg)
	}
	return nil
}
