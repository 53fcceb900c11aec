// Package segment turns patch scores into an anomaly map as the reference
// does: bilinear upsampling to the image size (align_corners=False), then
// a Gaussian blur like scipy.ndimage.gaussian_filter (reflect mode,
// truncated at 4 sigma).
package segment

import (
	"math"

	"github.com/tessera/tessera/core/compute/cpu/vec"
	"github.com/tessera/tessera/core/patchcore/embed"
)

// Map upsamples the h x w patch scores to oh x ow and blurs them with the
// given sigma (no blur when sigma <= 0).
func Map(scores []float32, h, w, oh, ow int, sigma float64) []float32 {
	up := embed.Upsample(scores, 1, h, w, oh, ow)
	if sigma > 0 {
		Blur(up, oh, ow, sigma)
	}
	return up
}

// Kernel returns scipy's 1-D Gaussian weights: radius int(4*sigma+0.5),
// normalised to sum 1.
func Kernel(sigma float64) []float64 {
	r := int(4*sigma + 0.5)
	k := make([]float64, 2*r+1)
	var sum float64
	for i := range k {
		x := float64(i - r)
		k[i] = math.Exp(-0.5 * x * x / (sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// reflect maps an index outside [0, n) back inside by scipy's 'reflect'
// rule, mirroring about the edges with the edge sample repeated:
// d c b a | a b c d | d c b a.
func reflect(i, n int) int {
	period := 2 * n
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - 1 - i
	}
	return i
}

// Blur filters an h x w image in place, rows then columns, in float32:
// each output row is the kernel's taps times shifted rows, one vec.Axpy
// (SIMD) a tap, in tap order: horizontally shifted copies of the row with
// r reflected samples each side, vertically the reflected rows above and
// below. Per pixel that is scipy's sum in float32 instead of float64 (a
// few units in the last place; TestBlurMatchesFloat64); a scalar float64
// loop took 26 ms of a browser prediction at 224x224.
func Blur(img []float32, h, w int, sigma float64) {
	k64 := Kernel(sigma)
	k := make([]float32, len(k64))
	for i, v := range k64 {
		k[i] = float32(v)
	}
	r := len(k) / 2
	padded := make([]float32, w+2*r)
	rows := make([]float32, h*w) // the horizontal pass
	for y := 0; y < h; y++ {
		row := img[y*w : (y+1)*w]
		for i := -r; i < w+r; i++ {
			padded[i+r] = row[reflect(i, w)]
		}
		out := rows[y*w : (y+1)*w]
		for j, kv := range k {
			vec.Axpy(kv, padded[j:j+w], out)
		}
	}
	for y := 0; y < h; y++ {
		out := img[y*w : (y+1)*w]
		clear(out)
		for j, kv := range k {
			src := reflect(y+j-r, h)
			vec.Axpy(kv, rows[src*w:(src+1)*w], out)
		}
	}
}
