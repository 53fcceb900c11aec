package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAVX512AgainstAVX2 runs the zmm loops and the ymm ones on lengths
// around every body and tail: Axpy fuses alike, so it must agree bit for
// bit; SqDist sums in another order, so within rounding.
func TestAVX512AgainstAVX2(t *testing.T) {
	if !avx512 {
		t.Skip("this CPU has no AVX-512")
	}
	for _, n := range []int{1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1024, 1029} {
		x, y := seq(n, 0.5), seq(n, -0.25)
		got, want := append([]float32(nil), y...), append([]float32(nil), y...)
		axpyAVX512(1.5, &x[0], &got[0], n)
		axpyAVX2(1.5, &x[0], &want[0], n)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("Axpy n=%d: [%d] = %g with AVX-512, %g with AVX2", n, i, got[i], want[i])
			}
		}
		d, w := sqDistAVX512(&x[0], &y[0], n), sqDistGo(x, y)
		if math.Abs(float64(d-w)) > 1e-6*float64(w) {
			t.Errorf("SqDist n=%d: %g with AVX-512, %g in Go", n, d, w)
		}
	}
}

func BenchmarkSqDist(b *testing.B) {
	saved := avx512
	defer func() { avx512 = saved }()
	x, y := seq(1024, 0.5), seq(1024, -0.25)
	for _, wide := range []bool{false, true} {
		if wide && !saved {
			continue
		}
		avx512 = wide
		b.Run(fmt.Sprintf("avx512=%v/d=1024", wide), func(b *testing.B) {
			var s float32
			for b.Loop() {
				s += SqDist(x, y)
			}
			_ = s
		})
	}
}

func TestSqDistBlocksAVX2(t *testing.T) {
	if !avx2 {
		t.Skip("this CPU has no AVX2")
	}
	const nb = 3
	blocks, q := seq(nb*Block*Block, 0.21), seq(Block, 0.9)
	got, want := make([]float32, nb*Block), make([]float32, nb*Block)
	sqDistBlocksAVX2(&blocks[0], &q[0], &got[0], nb)
	sqDistBlocksGo(blocks, q, want)
	for i := range want {
		if d := got[i] - want[i]; d > 1e-5*want[i] || d < -1e-5*want[i] {
			t.Fatalf("[%d] = %g with AVX2, %g in Go", i, got[i], want[i])
		}
	}
}

// TestHalfToFloatF16C is TestHalfToFloat with the AVX2 machines' kernel.
func TestHalfToFloatF16C(t *testing.T) {
	if !f16c {
		t.Skip("no F16C on this CPU")
	}
	saved := avx512
	defer func() { avx512 = saved }()
	avx512 = false
	checkHalves(t)
}

// TestWithoutAVX512 runs the plane kernels' tests on the paths a CPU
// without AVX-512 takes.
func TestWithoutAVX512(t *testing.T) {
	if !avx512 {
		t.Skip("this CPU takes them in every test already")
	}
	saved := avx512
	defer func() { avx512 = saved }()
	avx512 = false
	t.Run("Taps9Rows", TestTaps9Rows)
	t.Run("CopyRows", TestCopyRows)
	t.Run("Gather16", TestGather16)
	t.Run("Max", TestMax)
	t.Run("Below", TestBelow)
}

// TestWinogradAVX2 runs the Winograd transforms' tests with the AVX2
// loops where the CPU has AVX-512 too (which the dispatch would take).
func TestWinogradAVX2(t *testing.T) {
	if !avx2 {
		t.Skip("this CPU has no AVX2")
	}
	saved := avx512
	defer func() { avx512 = saved }()
	avx512 = false
	TestWinogradInputRow(t)
	TestWinogradOutputRow(t)
	TestWinogradVectorAgainstGo(t)
}

// BenchmarkBelow times a search's pass over one query's bounds (16,385,
// a real bank's size) with 0.1%, 2% and 12% of them under the limit
// (12%: MobileNetV2's bottle bank), the AVX-512 loop against Go's.
func BenchmarkBelow(b *testing.B) {
	saved := avx512
	defer func() { avx512 = saved }()
	const n = 16385
	x := randValues(rand.New(rand.NewPCG(1, 2)), n) // uniform in [-2, 2)
	dst := make([]int32, n)
	for _, share := range []float32{0.001, 0.02, 0.12} {
		for _, wide := range []bool{false, true} {
			if wide && !saved {
				continue
			}
			avx512 = wide
			b.Run(fmt.Sprintf("avx512=%v/under=%g", wide, share), func(b *testing.B) {
				for b.Loop() {
					Below(dst, x, 4*share-2)
				}
			})
		}
	}
}
