//go:build cgo || js

package webgpu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/internal/golden"
)

// open returns a device, a software one included (lavapipe natively,
// SwiftShader in Chromium), or skips the test saying there is none. Where
// TESSERA_REQUIRE_WEBGPU=1 (the test command sets it where it installed
// an adapter) a missing adapter fails the test instead.
func open(t *testing.T) *Backend {
	t.Helper()
	b, err := New(Options{AllowCPUAdapter: true})
	if errors.Is(err, ErrNoAdapter) && os.Getenv("TESSERA_REQUIRE_WEBGPU") != "1" {
		t.Skipf("no WebGPU adapter on this machine (install mesa-vulkan-drivers for lavapipe): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("running on %s", b.Name())
	return b
}

func rnd(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func same(t *testing.T, name string, gb compute.Backend, g compute.Tensor, cb compute.Backend, c compute.Tensor) {
	t.Helper()
	got, err := gb.Download(g)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want, _ := cb.Download(c)
	if fmt.Sprint(g.Shape()) != fmt.Sprint(c.Shape()) {
		t.Fatalf("%s: shape %v, CPU %v", name, g.Shape(), c.Shape())
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %g, CPU %g", name, i, got[i], want[i])
		}
	}
}

// TestOpsMatchCPU runs every operator on the GPU and the CPU backend.
func TestOpsMatchCPU(t *testing.T) {
	g := open(t)
	defer g.Close()
	c := cpu.New(2)
	r := rand.New(rand.NewPCG(1, 2))
	both := func(shape []int) (compute.Tensor, compute.Tensor) {
		d := rnd(r, compute.Size(shape))
		return g.Upload(shape, d), c.Upload(shape, d)
	}
	x, xc := both([]int{2, 6, 13, 11})
	relu6 := compute.Activation{Clamp: true, Min: 0, Max: 6}
	for i, s := range []compute.ConvSpec{
		{OutC: 70, InC: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1},
		{OutC: 9, InC: 6, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1},
		{OutC: 6, InC: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 0, PadB: 1, PadR: 1, Group: 6},
		{OutC: 4, InC: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 2, DilW: 2, PadT: 2, PadL: 2, PadB: 2, PadR: 2, Group: 2},
	} {
		w, bias := rnd(r, s.OutC*s.InC/s.Group*s.KH*s.KW), rnd(r, s.OutC)
		same(t, fmt.Sprintf("conv %d", i), g, g.Conv(x, g.PrepareConv(s, w, bias), relu6), c, c.Conv(xc, c.PrepareConv(s, w, bias), relu6))
	}
	scale, shift := rnd(r, 6), rnd(r, 6)
	same(t, "affine", g, g.Affine(x, scale, shift, compute.ReLU), c, c.Affine(xc, scale, shift, compute.ReLU))
	same(t, "sigmoid", g, g.Sigmoid(x), c, c.Sigmoid(xc))
	same(t, "activate", g, g.Activate(x, relu6), c, c.Activate(xc, relu6))
	y, yc := both([]int{1, 6, 1, 1})
	same(t, "add broadcast", g, g.Binary(compute.Add, x, y, []int{2, 6, 13, 11}), c, c.Binary(compute.Add, xc, yc, []int{2, 6, 13, 11}))
	same(t, "mul same", g, g.Binary(compute.Mul, x, x, []int{2, 6, 13, 11}), c, c.Binary(compute.Mul, xc, xc, []int{2, 6, 13, 11}))
	for _, p := range []compute.PoolSpec{
		{Kind: compute.MaxPool, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{Kind: compute.AvgPool, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{Kind: compute.AvgPool, KH: 2, KW: 2, StrideH: 2, StrideW: 2, CountIncludePad: true, PadB: 1, PadR: 1},
	} {
		same(t, fmt.Sprintf("pool %+v", p), g, g.Pool(x, p), c, c.Pool(xc, p))
	}
	same(t, "gap", g, g.GlobalAvgPool(x), c, c.GlobalAvgPool(xc))
	same(t, "concat", g, g.Concat(1, []compute.Tensor{x, x}), c, c.Concat(1, []compute.Tensor{xc, xc}))
	// Large enough for the 128-row tiles, with tails in every dimension.
	xl, xlc := both([]int{3, 20, 29, 31})
	sl := compute.ConvSpec{OutC: 130, InC: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1}
	wl, bl := rnd(r, 130*20*9), rnd(r, 130)
	same(t, "conv, 128-row tiles", g, g.Conv(xl, g.PrepareConv(sl, wl, bl), relu6), c, c.Conv(xlc, c.PrepareConv(sl, wl, bl), relu6))
	al, alc := both([]int{300, 45})
	bl2, blc2 := both([]int{45, 1111})
	same(t, "matmul, 128-row tiles", g, g.MatMul(al, bl2), c, c.MatMul(alc, blc2))
	a, ac := both([]int{37, 70})
	bm, bc := both([]int{70, 19})
	same(t, "matmul", g, g.MatMul(a, bm), c, c.MatMul(ac, bc))
	same(t, "transpose", g, g.Transpose2D(a), c, c.Transpose2D(ac))
	same(t, "reshape", g, g.Reshape(a, []int{70, 37}), c, c.Reshape(ac, []int{70, 37}))

	// Nearest neighbours over more than one bank chunk, and (second time)
	// more than one query chunk.
	n, d, nq := bankChunk+300, 24, 150
	vecs, qs := rnd(r, n*d), rnd(r, nq*d)
	for _, k := range []int{1, 3} {
		if k == 3 {
			g.maxScratch = 4 * bankChunk * 64
		}
		got, err := g.Nearest(g.PrepareIndex(vecs, n, d), qs, nq, k)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := c.Nearest(c.PrepareIndex(vecs, n, d), qs, nq, k)
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+float64(want[i])) {
				t.Fatalf("nearest k=%d [%d]: %g, CPU %g", k, i, got[i], want[i])
			}
		}
	}
}

// TestGoldenThroughWebGPU reproduces ONNX Runtime's outputs for both
// shared models with the WebGPU backend.
func TestGoldenThroughWebGPU(t *testing.T) {
	g := open(t)
	defer g.Close()
	for _, net := range golden.Nets {
		e, err := golden.Model(t, net).NewExecutor(g)
		if err != nil {
			t.Fatal(err)
		}
		x, shape := golden.Input(t, net)
		feats, err := e.Run(x, shape)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, net, feats, g.Name())
	}
}

// onDevice is g as "auto" gives a GPU when withFallback (moving to the
// CPU, its message kept in logged), or g alone.
func onDevice(g compute.Backend, withFallback bool, logged *string) *compute.Device {
	if !withFallback {
		return compute.Fixed(g)
	}
	return compute.NewDevice(g, func() (compute.Backend, error) { return cpu.New(0), nil }, func(m string) { *logged = m })
}

// sameFeatures checks features against the CPU's, bit for bit: after a
// failover the whole batch ran on the CPU.
func sameFeatures(t *testing.T, got, want []backbone.Feature) {
	t.Helper()
	for i := range want {
		for j := range want[i].Data {
			if got[i].Data[j] != want[i].Data[j] {
				t.Fatalf("%s[%d] = %g, CPU %g", want[i].Name, j, got[i].Data[j], want[i].Data[j])
			}
		}
	}
}

// TestOutOfMemoryFallsBack gives the device room for the weights but not
// for a forward pass: the executor moves to the CPU mid-run and says why;
// without a fallback the run fails with compute.ErrOutOfMemory.
func TestOutOfMemoryFallsBack(t *testing.T) {
	m, x, shape, want := golden.OnCPU(t, golden.MobileNetV2)
	probe := open(t)
	if _, err := m.NewExecutor(probe); err != nil {
		t.Fatal(err)
	}
	weights := probe.Held()
	probe.Close()

	for _, withFallback := range []bool{true, false} {
		g, err := New(Options{AllowCPUAdapter: true, MemoryLimit: weights + 1<<20})
		if err != nil {
			t.Fatal(err)
		}
		var logged string
		e, err := m.NewExecutorOn(onDevice(g, withFallback, &logged))
		if err != nil {
			t.Fatalf("the weights (%d bytes) no longer fit: %v", weights, err)
		}
		got, err := e.Run(x, shape)
		if !withFallback {
			if !errors.Is(err, compute.ErrOutOfMemory) {
				t.Errorf("without a fallback: %v, want out of device memory", err)
			}
			g.Close()
			continue
		}
		if err != nil {
			t.Fatalf("with a fallback: %v", err)
		}
		sameFeatures(t, got, want)
		t.Logf("fallback said: %s", logged)
		if !strings.Contains(logged, "out of device memory") || !strings.Contains(logged, "memory limit") {
			t.Errorf("fallback message %q does not say the device ran out of memory", logged)
		}
	}
}

// TestBrokenKernel is a kernel the driver cannot compile: a device
// failure, which "auto" answers with the CPU, naming the kernel.
func TestBrokenKernel(t *testing.T) {
	g := open(t)
	defer g.Close()
	err := g.compileSources(map[string]string{"affine": "@compute @workgroup_size(64) fn main( {"})
	if !errors.Is(err, compute.ErrDevice) || !strings.Contains(err.Error(), "affine") {
		t.Errorf("broken kernel: %v, want a device failure naming affine", err)
	}
}

// TestOpenRepeatedly opens and closes the device many times: every open
// must succeed. (Requesting the adapter's limits as the binding reports
// them once failed 2-3% of opens natively; see open. A browser compiles
// the kernels slowly on SwiftShader, so it opens a few times only.)
func TestOpenRepeatedly(t *testing.T) {
	open(t).Close()
	n := 60
	if runtime.GOOS == "js" {
		n = 3
	}
	for i := range n {
		g, err := New(Options{AllowCPUAdapter: true})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		g.Close()
	}
}
