package sgemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestAVX512MatchesAVX2 multiplies with the AVX-512 kernels (12x32 and
// 6x32, and 6x32 alone) and with the 6x16 AVX2 one: all fuse each
// multiply-add in the same order, so C must agree bit for bit, epilogue
// and edges included.
func TestAVX512MatchesAVX2(t *testing.T) {
	if !cpuHasAVX512() {
		t.Skip("this CPU has no AVX-512")
	}
	saved, savedRows := hasAVX512, twelveRows
	defer func() { hasAVX512, twelveRows = saved, savedRows }()
	r := rand.New(rand.NewPCG(7, 8))
	// Column counts ending in a 1-8 column call (the quarter-width loop:
	// 33, 129, 49, 196, 200), a 9-16 one (the half loop: 16, 140) and
	// whole calls; rows past whole strips of twelve from 1 to 6 (the
	// six-row kernel's loops for at most 2, at most 4 and 6 rows); every
	// other size adds to C.
	for i, sz := range [][3]int{{6, 16, 32}, {7, 300, 33}, {73, 257, 129}, {144, 513, 200}, {12, 5, 64}, {256, 256, 49}, {30, 64, 196}, {24, 40, 16}, {13, 70, 140}, {14, 33, 40}, {27, 20, 50}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, b, bias, c0 := random(m*k, r), random(k*n, r), random(m, r), random(m*n, r)
		p := Pack(a, m, k)
		ep := Epilogue{Bias: bias, Clamp: true, Min: -0.5, Max: 0.5, Accumulate: i%2 == 1}
		var out [3][]float32
		for x, kern := range []struct{ wide, twelve bool }{{false, false}, {true, false}, {true, true}} {
			hasAVX512, twelveRows = kern.wide, kern.twelve
			out[x] = slices.Clone(c0)
			p.Mul(out[x], n, b, n, n, ep, Goroutines(2))
		}
		for x := 1; x < len(out); x++ {
			for i := range out[0] {
				if out[0][i] != out[x][i] {
					t.Fatalf("m=%d k=%d n=%d: c[%d] = %g with AVX-512 (twelve rows %v), %g with AVX2", m, k, n, i, out[x][i], x == 2, out[0][i])
				}
			}
		}
	}
}

// BenchmarkKernels sets the AVX2 and AVX-512 kernels side by side on one
// core and on all.
func BenchmarkKernels(b *testing.B) {
	saved := hasAVX512
	defer func() { hasAVX512 = saved }()
	r := rand.New(rand.NewPCG(1, 2))
	kernels := []bool{false}
	if cpuHasAVX512() {
		kernels = append(kernels, true)
	}
	for _, sz := range benchShapes {
		m, k, n := sz[0], sz[1], sz[2]
		A, B, C := random(m*k, r), random(k*n, r), make([]float32, m*n)
		p := Pack(A, m, k)
		for _, wide := range kernels {
			hasAVX512 = wide
			for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
				b.Run(fmt.Sprintf("%s/%dx%dx%d/threads=%d", kernelName(), m, k, n, workers), func(b *testing.B) {
					for b.Loop() {
						p.Mul(C, n, B, n, n, Epilogue{}, Goroutines(workers))
					}
					b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestAVX2Paths runs the products' tests again with the AVX2 kernel, as a
// CPU without AVX-512 would: partial tiles through the buffer, 16 columns
// a call.
func TestAVX2Paths(t *testing.T) {
	if !cpuHasAVX512() {
		t.Skip("this CPU runs the AVX2 kernel in every test already")
	}
	saved := hasAVX512
	defer func() { hasAVX512 = saved }()
	hasAVX512 = false
	t.Run("MulMatchesNaive", TestMulMatchesNaive)
	t.Run("MulAccumulates", TestMulAccumulates)
	t.Run("MulShiftedMatchesNaive", TestMulShiftedMatchesNaive)
	t.Run("MulPanelsMatchesNaive", TestMulPanelsMatchesNaive)
}

// BenchmarkMicroKernels runs the AVX-512 micro-kernels on operands in L1
// (a 12-row A block, two packed B panels, a 12 x 32 C tile): their own
// speed, without the memory around them.
func BenchmarkMicroKernels(b *testing.B) {
	if !cpuHasAVX512() {
		b.Skip("this CPU has no AVX-512")
	}
	r := rand.New(rand.NewPCG(1, 2))
	const k = 256
	a, b0, b1 := random(2*mr*k, r), random(k*nr, r), random(k*nr, r)
	c := make([]float32, 2*mr*2*nr)
	report := func(b *testing.B) {
		b.ReportMetric(2*float64(2*mr*2*nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("6x32", func(b *testing.B) {
		for b.Loop() {
			kernelWide(k, a, b0, nr, b1, nr, c, 2*nr, false, nil, mr, 2*nr)
			kernelWide(k, a[mr*k:], b0, nr, b1, nr, c[mr*2*nr:], 2*nr, false, nil, mr, 2*nr)
		}
		report(b)
	})
	b.Run("12x32", func(b *testing.B) {
		for b.Loop() {
			kernelWide12(k, a, a[mr*k:], 1, 0, b0, nr, b1, nr, c, 2*nr, false, nil, 2*nr)
		}
		report(b)
	})
}
