//go:build js && wasm

package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/tessera/tessera/core/compute/cpu/wasmsimd"
)

// TestSIMDLevel checks that the host bound what TESSERA_SIMD asked for
// (tools/wasmexec passes it on; Node there validates relaxed SIMD).
func TestSIMDLevel(t *testing.T) {
	want := map[string]int{"off": wasmsimd.None, "simd128": wasmsimd.SIMD128, "relaxed": wasmsimd.Relaxed, "auto": wasmsimd.Relaxed, "": wasmsimd.Relaxed}
	w, ok := want[os.Getenv("TESSERA_SIMD")]
	if !ok {
		t.Fatalf("TESSERA_SIMD=%q is not a level", os.Getenv("TESSERA_SIMD"))
	}
	if simdLevel != w {
		t.Fatalf("level %d (%s), want %d for TESSERA_SIMD=%q", simdLevel, Kernel(), w, os.Getenv("TESSERA_SIMD"))
	}
	t.Logf("kernel: %s", Kernel())
}

// TestSIMDKernelsMatchGo sets both wasm micro-kernels against the Go one on
// every epilogue: SIMD128 sums in the same order, so it must agree bit for
// bit; relaxed fuses, so within rounding.
func TestSIMDKernelsMatchGo(t *testing.T) {
	if simdLevel == wasmsimd.None {
		t.Skip("no SIMD kernels bound (TESSERA_SIMD=off)")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1, 2, 7, 64, 256} {
		for _, ldb := range []int{nr, 40} {
			for flags := 0; flags < 4; flags++ {
				a, b := random(k*mr, r), random((k-1)*ldb+nr, r)
				const ldc = 21 // rows of C further apart than the tile
				c0 := random((mr-1)*ldc+nr, r)
				var fin *finish
				if flags&2 != 0 {
					fin = &finish{bias: random(mr, r), lo: -0.3, hi: 0.4}
				}
				want := append([]float32(nil), c0...)
				kernelGo(k, a, b, ldb, want, ldc, flags&1 != 0, fin)
				for _, relaxed := range []bool{false, true} {
					got := append([]float32(nil), c0...)
					kernelSIMD(relaxed, k, mr, a, b, ldb, got, ldc, flags&1 != 0, fin)
					name := fmt.Sprintf("k=%d ldb=%d flags=%d relaxed=%v", k, ldb, flags, relaxed)
					// The first rows only: those match, the rest of C is
					// left as it was.
					for rows := 1; rows < mr; rows++ {
						part := append([]float32(nil), c0...)
						kernelSIMD(relaxed, k, rows, a, b, ldb, part, ldc, flags&1 != 0, fin)
						for i := range part {
							w := want[i]
							if i >= rows*ldc {
								w = c0[i]
							} else if i%ldc >= nr {
								w = c0[i]
							}
							if d := math.Abs(float64(part[i] - w)); d > 1e-6*float64(k+1) || math.IsNaN(d) {
								t.Fatalf("%s rows=%d: c[%d] = %g, want %g", name, rows, i, part[i], w)
							}
						}
					}
					for i := range want {
						tol := 0.0
						if relaxed {
							tol = 1e-6 * float64(k+1)
						}
						if d := math.Abs(float64(got[i] - want[i])); d > tol || math.IsNaN(d) {
							t.Fatalf("%s: c[%d] = %g, Go kernel %g", name, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// BenchmarkKernels is the wasm GEMM per micro-kernel on one thread, for
// make bench-browser's GFLOP/s line.
func BenchmarkKernels(b *testing.B) {
	saved := simdLevel
	defer func() { simdLevel = saved }()
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1024, 1024, 1024}, {128, 1152, 784}, {256, 64, 3136}, {64, 256, 3136}} {
		m, k, n := sz[0], sz[1], sz[2]
		A, B, C := random(m*k, r), random(k*n, r), make([]float32, m*n)
		p := Pack(A, m, k)
		for l := wasmsimd.None; l <= saved; l++ {
			simdLevel = l
			b.Run(fmt.Sprintf("%s/%dx%dx%d", wasmsimd.LevelName(l), m, k, n), func(b *testing.B) {
				for b.Loop() {
					p.Mul(C, n, B, n, n, Epilogue{}, Serial)
				}
				b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
