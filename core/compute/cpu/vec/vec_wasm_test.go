//go:build js && wasm

package vec

import (
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
