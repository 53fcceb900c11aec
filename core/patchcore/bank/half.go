package bank

import (
	"fmt"
	"math"

	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// Precisions a bank's vectors may be stored in.
const (
	F32 = "f32" // float32, the default (also what an empty field means)
	F16 = "f16" // IEEE 754 half precision: half the file; scores still in float32
)

// maxHalf is the largest finite half-precision value.
const maxHalf = 65504

// ParsePrecision checks a precision name; "" is F32.
func ParsePrecision(p string) (string, error) {
	switch p {
	case "", F32:
		return F32, nil
	case F16:
		return F16, nil
	}
	return "", fmt.Errorf("bank: precision %q: want f32 or f16", p)
}

// RoundToHalf rounds every value to the nearest half-precision one (ties
// to even), in place, so that a bank scores in memory exactly as it will
// after it is saved as f16 and read back. A value past the half range is
// an error, not an infinity.
func RoundToHalf(v []float32) error {
	for i, x := range v {
		h, err := halfOf(x, i)
		if err != nil {
			return err
		}
		v[i] = vec.FromHalf(h)
	}
	return nil
}

// Halves is v rounded as RoundToHalf rounds it, as half-precision bits:
// what a bank of precision F16 holds in Bank.Half.
func Halves(v []float32) ([]uint16, error) {
	out := make([]uint16, len(v))
	for i, x := range v {
		h, err := halfOf(x, i)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// halfOf is value i's nearest half, or the error that it has none.
func halfOf(x float32, i int) (uint16, error) {
	if math.IsNaN(float64(x)) || math.Abs(float64(x)) > maxHalf {
		return 0, fmt.Errorf("bank: value %g at %d does not fit half precision (at most %d)", x, i, maxHalf)
	}
	return toHalf(x), nil
}

// toHalf converts a finite float32 within the half range to the nearest
// half (ties to even).
func toHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 0x1f:
		return sign | 0x7c00 // past the range: infinity (RoundToHalf refuses it first)
	case exp <= 0:
		// Subnormal (or zero): the implicit bit joins the mantissa, shifted
		// right by 1-exp more places.
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		h := mant >> shift
		rem, half := mant&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || rem == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // may carry into the exponent, which is the right answer
	}
	return sign | uint16(h)
}
