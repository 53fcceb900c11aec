package vec

import (
	"math"
	"testing"
)

// TestHalfToFloat: the kernel chosen here converts every one of the
// 65,536 halves to FromHalf's float32, bit for bit (a NaN to a NaN), at
// every length's tail, and FromHalf is exact on values checked by hand.
func TestHalfToFloat(t *testing.T) {
	checkHalves(t)
	for h, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24), 0x3555: 0.333251953125, 0x7c00: float32(math.Inf(1))} {
		if got := FromHalf(h); got != want {
			t.Errorf("FromHalf(%#04x) = %g, want %g", h, got, want)
		}
	}
	if v := FromHalf(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("FromHalf(0x7e00) = %g, want NaN", v)
	}
}

func checkHalves(t *testing.T) {
	t.Helper()
	src := make([]uint16, 1<<16+5)
	for i := range src {
		src[i] = uint16(i)
	}
	for _, n := range []int{len(src), 1 << 16, 23, 16, 8, 7, 1} {
		dst := make([]float32, n)
		HalfToFloat(dst, src[:n])
		for i, v := range dst {
			want := FromHalf(src[i])
			if math.IsNaN(float64(want)) && math.IsNaN(float64(v)) {
				continue // the hardware quiets a signalling NaN
			}
			if math.Float32bits(v) != math.Float32bits(want) {
				t.Fatalf("n=%d: half %#04x -> %g (%#08x), want %g (%#08x)", n, src[i], v, math.Float32bits(v), want, math.Float32bits(want))
			}
		}
	}
}
