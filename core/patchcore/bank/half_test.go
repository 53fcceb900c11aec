package bank

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// TestHalfRoundTrip: every finite half converts to float32 and back to
// itself, and its float32 value is the one its bits define.
func TestHalfRoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		exp := h >> 10 & 0x1f
		if exp == 0x1f {
			continue // infinities and NaNs
		}
		f := vec.FromHalf(uint16(h))
		mant := float64(h & 0x3ff)
		want := math.Ldexp(1+mant/1024, exp-15)
		if exp == 0 {
			want = math.Ldexp(mant/1024, -14)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if float64(f) != want {
			t.Fatalf("half %#04x is %g, want %g", h, f, want)
		}
		if back := toHalf(f); back != uint16(h) && !(f == 0 && back&0x7fff == 0) {
			t.Fatalf("half %#04x -> %g -> %#04x", h, f, back)
		}
	}
}

// TestToHalfNearest: random float32 values round to the nearer of the two
// halves around them, ties to the even one.
func TestToHalfNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		x := float32(math.Ldexp(r.Float64()*2-1, r.IntN(40)-25))
		got := vec.FromHalf(toHalf(x))
		// The halves on either side of x, from its rounding toward zero.
		h := toHalf(x)
		for _, n := range []uint16{h - 1, h + 1} {
			if n&0x7c00 == 0x7c00 {
				continue
			}
			c := vec.FromHalf(n)
			dg, dc := math.Abs(float64(got)-float64(x)), math.Abs(float64(c)-float64(x))
			if dc < dg || dc == dg && n&1 == 0 && h&1 == 1 {
				t.Fatalf("%g rounds to %g, but %g is nearer", x, got, c)
			}
		}
	}
	if _, err := Halves([]float32{1, 70000}); err == nil {
		t.Error("Halves took 70000, past the half range")
	}
	if err := RoundToHalf([]float32{1, 70000}); err == nil {
		t.Error("70000 does not fit half precision, and no error said so")
	}
}
