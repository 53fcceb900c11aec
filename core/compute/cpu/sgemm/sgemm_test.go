package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/nlpodyssey/spago/mat"
)

func naive(a, b []float32, m, k, n int) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
			}
			c[i*n+j] = float32(s)
		}
	}
	return c
}

func random(n int, r *rand.Rand) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func TestMulMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Sizes straddle every block edge: mr, nr, kc, mc, nc.
	for _, sz := range [][3]int{{1, 1, 1}, {6, 16, 3}, {7, 17, 5}, {5, 300, 15}, {73, 257, 129}, {144, 513, 200}, {3, 0, 4}, {4, 5, 0}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, b := random(m*k, r), random(k*n, r)
		bias := random(m, r)
		want := naive(a, b, m, k, n)
		for i := range want {
			v := want[i] + bias[i/max(n, 1)]
			want[i] = float32(math.Max(-0.5, math.Min(0.5, float64(v))))
		}
		for _, workers := range []int{1, 2, 3} {
			c := random(m*n, r) // garbage that must be overwritten
			Pack(a, m, k).Mul(c, n, b, n, n, Epilogue{Bias: bias, Clamp: true, Min: -0.5, Max: 0.5}, Goroutines(workers))
			for i := range c {
				if d := math.Abs(float64(c[i] - want[i])); d > 1e-4 {
					t.Fatalf("m=%d k=%d n=%d workers=%d: c[%d]=%g want %g", m, k, n, workers, i, c[i], want[i])
				}
			}
		}
	}
}

// TestMulAccumulates adds the product to what C holds, as a residual
// connection does, on every path: whole tiles, partial rows and columns,
// several depth passes.
func TestMulAccumulates(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, sz := range [][3]int{{6, 16, 32}, {7, 17, 5}, {73, 257, 129}, {64, 600, 196}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, b, bias := random(m*k, r), random(k*n, r), random(m, r)
		prod := naive(a, b, m, k, n)
		for _, workers := range []int{1, 2} {
			c := random(m*n, r)
			want := make([]float32, m*n)
			for i := range want {
				want[i] = c[i] + prod[i] + bias[i/n]
			}
			Pack(a, m, k).Mul(c, n, b, n, n, Epilogue{Bias: bias, Accumulate: true}, Goroutines(workers))
			for i := range c {
				if d := math.Abs(float64(c[i] - want[i])); d > 1e-4 {
					t.Fatalf("m=%d k=%d n=%d workers=%d: c[%d]=%g want %g", m, k, n, workers, i, c[i], want[i])
				}
			}
		}
	}
}

// TestMulShiftedMatchesNaive reads B as blocks of shifted rows of one
// buffer, with blocks shorter and longer than a depth pass.
func TestMulShiftedMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, tc := range []struct {
		m, rows, stride, n int
		offsets            []int
	}{
		{13, 20, 50, 48, []int{0, 5, 37}},
		{6, 300, 33, 32, []int{1, 2}},
		{64, 16, 70, 64, []int{0, 1, 2, 66, 67, 68}},
		{10, 40, 45, 32, []int{0, 3}}, // twelve rows a call, two of them padding
	} {
		k := len(tc.offsets) * tc.rows
		buf := random(tc.offsets[len(tc.offsets)-1]+(tc.rows-1)*tc.stride+tc.n, r)
		b := make([]float32, k*tc.n)
		for p := 0; p < k; p++ {
			copy(b[p*tc.n:(p+1)*tc.n], buf[tc.offsets[p/tc.rows]+(p%tc.rows)*tc.stride:])
		}
		a, bias := random(tc.m*k, r), random(tc.m, r)
		want := naive(a, b, tc.m, k, tc.n)
		for _, workers := range []int{1, 2} {
			c := random(PanelRows(tc.m)*tc.n, r)
			Pack(a, tc.m, k).MulShifted(c, tc.n, buf, Shifted{Offsets: tc.offsets, Rows: tc.rows, Stride: tc.stride}, tc.n, Epilogue{Bias: bias}, Goroutines(workers))
			for i := range want {
				if d := math.Abs(float64(c[i] - want[i] - bias[i/tc.n])); d > 1e-4 {
					t.Fatalf("m=%d k=%d n=%d workers=%d: c[%d]=%g want %g", tc.m, k, tc.n, workers, i, c[i], want[i]+bias[i/tc.n])
				}
			}
		}
	}
}

// densePanels makes panels from a row-major B, as a convolution makes
// them from its input.
type densePanels struct {
	b []float32
	n int
}

func (d *densePanels) Panel(dst []float32, j, p0, kl int) {
	for r := 0; r < kl; r++ {
		for x := 0; x < 16; x++ {
			v := float32(0)
			if j+x < d.n {
				v = d.b[(p0+r)*d.n+j+x]
			}
			dst[r*16+x] = v
		}
	}
}

// TestMulPanelsMatchesNaive multiplies with panels made on demand, across
// partial panels and several depth passes.
func TestMulPanelsMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, sz := range [][3]int{{6, 16, 32}, {7, 17, 5}, {73, 257, 129}, {64, 147, 200}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, b, bias := random(m*k, r), random(k*n, r), random(m, r)
		want := naive(a, b, m, k, n)
		for _, workers := range []int{1, 2} {
			c := random(m*n, r)
			Pack(a, m, k).MulPanels(c, n, &densePanels{b: b, n: n}, n, Epilogue{Bias: bias}, Goroutines(workers))
			for i := range want {
				if d := math.Abs(float64(c[i] - want[i] - bias[i/n])); d > 1e-4 {
					t.Fatalf("m=%d k=%d n=%d: c[%d]=%g want %g", m, k, n, i, c[i], want[i]+bias[i/n])
				}
			}
		}
	}
}

func TestPortableKernelMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	k := 37
	a, b := random(mr*k, r), random(k*nr, r)
	p := Pack(a, mr, k)
	// b as a packed panel is k-major with nr columns: exactly row-major K x nr.
	c := make([]float32, mr*nr)
	kernelGo(k, p.data, b, nr, c, nr, false, nil)
	want := naive(a, b, mr, k, nr)
	for i := range c {
		if d := math.Abs(float64(c[i] - want[i])); d > 1e-4 {
			t.Fatalf("c[%d]=%g want %g", i, c[i], want[i])
		}
	}
}

// Shapes from ResNet-50 layer2/layer3 convolutions at batch 1 (M=Cout, K=Cin*kh*kw, N=H*W),
// plus square GEMMs.
var benchShapes = [][3]int{{128, 1152, 784}, {256, 2304, 196}, {1024, 256, 196}, {512, 512, 512}, {1024, 1024, 1024}}

func BenchmarkPacked(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range benchShapes {
		m, k, n := sz[0], sz[1], sz[2]
		A, B, C := random(m*k, r), random(k*n, r), make([]float32, m*n)
		p := Pack(A, m, k)
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			for b.Loop() {
				p.Mul(C, n, B, n, n, Epilogue{}, Goroutines(runtime.GOMAXPROCS(0)))
			}
			b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSpago is the portable reference the packed kernel has to beat.
func BenchmarkSpago(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range benchShapes {
		m, k, n := sz[0], sz[1], sz[2]
		A := mat.NewDense[float32](mat.WithShape(m, k), mat.WithBacking(random(m*k, r)))
		B := mat.NewDense[float32](mat.WithShape(k, n), mat.WithBacking(random(k*n, r)))
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			for b.Loop() {
				A.Mul(B)
			}
			b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
