package segment

import (
	"math"
	"testing"
)

func TestKernelMatchesScipy(t *testing.T) {
	// scipy.ndimage.gaussian_filter with sigma 4: radius int(4*4+0.5) = 16.
	k := Kernel(4)
	if len(k) != 33 {
		t.Fatalf("kernel has %d taps, want 33", len(k))
	}
	var sum float64
	for _, v := range k {
		sum += v
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("kernel sums to %g", sum)
	}
	// Centre weight: 1 / sum_{x=-16..16} exp(-x^2/32).
	var z float64
	for x := -16; x <= 16; x++ {
		z += math.Exp(-float64(x*x) / 32)
	}
	if math.Abs(k[16]-1/z) > 1e-12 {
		t.Errorf("centre weight %g, want %g", k[16], 1/z)
	}
}

func TestReflect(t *testing.T) {
	// scipy 'reflect': d c b a | a b c d | d c b a
	want := map[int]int{-1: 0, -2: 1, -4: 3, -5: 3, 4: 3, 5: 2, 8: 0, 9: 1, 0: 0, 3: 3}
	for i, w := range want {
		if got := reflect(i, 4); got != w {
			t.Errorf("reflect(%d, 4) = %d, want %d", i, got, w)
		}
	}
}

func TestBlurKeepsMassAndConstants(t *testing.T) {
	h, w := 20, 30
	flat := make([]float32, h*w)
	for i := range flat {
		flat[i] = 2.5
	}
	Blur(flat, h, w, 4)
	for i, v := range flat {
		if math.Abs(float64(v)-2.5) > 1e-5 {
			t.Fatalf("constant image changed at %d: %g", i, v)
		}
	}
	// A single spike spreads symmetrically; reflection keeps the total.
	img := make([]float32, h*w)
	img[10*w+15] = 1
	Blur(img, h, w, 1.5)
	var total float64
	for _, v := range img {
		total += float64(v)
	}
	if math.Abs(total-1) > 1e-5 {
		t.Errorf("blurred spike sums to %g", total)
	}
	if img[10*w+14] != img[10*w+16] || img[9*w+15] != img[11*w+15] {
		t.Errorf("blur is not symmetric around the spike")
	}
}

func TestMapSize(t *testing.T) {
	m := Map([]float32{0, 1, 2, 3}, 2, 2, 8, 8, 0)
	if len(m) != 64 {
		t.Fatalf("map has %d values", len(m))
	}
	// align_corners=False: the corners repeat the corner patches' values.
	if m[0] != 0 || m[63] != 3 {
		t.Errorf("corners %g, %g; want 0, 3", m[0], m[63])
	}
}
