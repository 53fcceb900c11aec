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

// blurFloat64 is the scalar float64 blur Blur replaced: scipy's sums.
func blurFloat64(img []float32, h, w int, sigma float64) {
	k := Kernel(sigma)
	r := len(k) / 2
	n := max(h, w)
	padded := make([]float64, n+2*r)
	line := make([]float64, n)
	filter := func(size int) {
		for x := 0; x < size; x++ {
			var s float64
			for j, kv := range k {
				s += kv * padded[x+j]
			}
			line[x] = s
		}
	}
	for y := 0; y < h; y++ {
		row := img[y*w : (y+1)*w]
		for i := -r; i < w+r; i++ {
			padded[i+r] = float64(row[reflect(i, w)])
		}
		filter(w)
		for x := range row {
			row[x] = float32(line[x])
		}
	}
	for x := 0; x < w; x++ {
		for i := -r; i < h+r; i++ {
			padded[i+r] = float64(img[reflect(i, h)*w+x])
		}
		filter(h)
		for y := 0; y < h; y++ {
			img[y*w+x] = float32(line[y])
		}
	}
}

// TestBlurMatchesFloat64 sets the float32 blur against scipy's float64
// sums on a patch-score-like map, smaller than the kernel in one side too.
func TestBlurMatchesFloat64(t *testing.T) {
	for _, sz := range [][2]int{{224, 224}, {7, 40}, {33, 5}} {
		h, w := sz[0], sz[1]
		img := make([]float32, h*w)
		for i := range img {
			img[i] = float32(math.Sin(float64(i)*0.37)*3 + 5)
		}
		want := append([]float32(nil), img...)
		blurFloat64(want, h, w, 4)
		Blur(img, h, w, 4)
		for i := range want {
			if d := math.Abs(float64(img[i] - want[i])); d > 1e-6*math.Abs(float64(want[i])) {
				t.Fatalf("%dx%d: [%d] = %g, float64 sums give %g", h, w, i, img[i], want[i])
			}
		}
	}
}

func BenchmarkBlur(b *testing.B) {
	img := make([]float32, 224*224)
	for i := range img {
		img[i] = float32(i % 17)
	}
	b.Run("float32-axpy", func(b *testing.B) {
		for b.Loop() {
			Blur(img, 224, 224, 4)
		}
	})
	b.Run("float64-scalar", func(b *testing.B) {
		for b.Loop() {
			blurFloat64(img, 224, 224, 4)
		}
	})
}
