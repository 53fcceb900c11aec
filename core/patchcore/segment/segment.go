// Package segment turns patch scores into an anomaly map as the reference
// does: bilinear upsampling to the image size (align_corners=False), then
// a Gaussian blur like scipy.ndimage.gaussian_filter (reflect mode,
// truncated at 4 sigma).
package segment

import (
	"math"

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

// Blur filters an h x w image in place, rows then columns.
func Blur(img []float32, h, w int, sigma float64) {
	k := Kernel(sigma)
	r := len(k) / 2
	n := max(h, w)
	padded := make([]float64, n+2*r)
	line := make([]float64, n)
	// filter convolves padded (a line with r reflected samples each side).
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
