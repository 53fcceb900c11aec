//go:build js && wasm

package vec

import (
	"fmt"
	"math"
	"testing"

	"github.com/tessera/tessera/core/compute/cpu/wasmsimd"
)

// TestRelaxedAgainstGo runs the fused variants, which the dispatch above
// reaches only where the host bound relaxed SIMD, against the Go loops.
func TestRelaxedAgainstGo(t *testing.T) {
	if simdLevel == wasmsimd.None {
		t.Skip("no SIMD kernels bound (TESSERA_SIMD=off)")
	}
	for _, n := range append(lengths, 15, 17, 35, 1029) {
		x, y := seq(n, 0.5), seq(n, -0.25)
		for _, relaxed := range []bool{false, true} {
			got, want := append([]float32(nil), y...), append([]float32(nil), y...)
			if n > 0 {
				wasmsimd.Axpy(relaxed, 1.5, &x[0], &got[0], n)
			}
			axpyGo(1.5, x, want)
			same(t, "Axpy", n, got, want)
			if n == 0 {
				continue
			}
			d, w := wasmsimd.SqDist(relaxed, &x[0], &y[0], n), sqDistGo(x, y)
			if math.Abs(float64(d-w)) > 1e-5*float64(w) {
				t.Errorf("SqDist n=%d relaxed=%v: %g, want %g", n, relaxed, d, w)
			}
		}
	}
}

// BenchmarkSqDistWasm sets the SIMD module's distance (through the JS
// forwarder) against the Go loop at the coreset's bound length and at a
// patch vector's, to place shortDist.
func BenchmarkSqDistWasm(b *testing.B) {
	if simdLevel == wasmsimd.None {
		b.Skip("no SIMD kernels bound")
	}
	for _, n := range []int{16, 32, 64, 1024} {
		x, y := seq(n, 0.5), seq(n, -0.25)
		var s float32
		b.Run(fmt.Sprintf("simd/%d", n), func(b *testing.B) {
			for b.Loop() {
				s += wasmsimd.SqDist(relaxed(), &x[0], &y[0], n)
			}
		})
		b.Run(fmt.Sprintf("go/%d", n), func(b *testing.B) {
			for b.Loop() {
				s += sqDistGo(x, y)
			}
		})
		_ = s
	}
}
