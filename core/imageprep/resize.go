package imageprep

import (
	"image"
	"math"
)

// precisionBits is PIL's fixed-point precision for 8-bit resampling.
const precisionBits = 32 - 8 - 2

// coeffs are the filter taps of one output position along one axis.
type coeffs struct {
	start int
	k     []int32
}

// bilinearCoeffs computes PIL's antialiased bilinear (triangle) filter taps
// for scaling inSize samples to outSize: when shrinking, the filter widens by
// the scale factor so every input sample contributes.
func bilinearCoeffs(inSize, outSize int) []coeffs {
	scale := float64(inSize) / float64(outSize)
	filterScale := math.Max(scale, 1)
	support := 1.0 * filterScale
	out := make([]coeffs, outSize)
	for xx := range out {
		center := (float64(xx) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		w := make([]float64, xmax)
		var sum float64
		for x := range w {
			t := math.Abs((float64(x+xmin) - center + 0.5) / filterScale)
			if t < 1 {
				w[x] = 1 - t
			}
			sum += w[x]
		}
		k := make([]int32, xmax)
		for x := range w {
			if sum != 0 {
				w[x] /= sum
			}
			r := 0.5
			if w[x] < 0 {
				r = -0.5
			}
			k[x] = int32(w[x]*(1<<precisionBits) + r)
		}
		out[xx] = coeffs{start: xmin, k: k}
	}
	return out
}

func clip8(v int64) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resize scales an RGB image to w x h, horizontally then vertically, each
// pass rounding to 8 bits as PIL does.
func resize(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	tmp := src
	if w != sw {
		tmp = image.NewRGBA(image.Rect(0, 0, w, sh))
		cs := bilinearCoeffs(sw, w)
		for y := 0; y < sh; y++ {
			in := src.Pix[y*src.Stride:]
			out := tmp.Pix[y*tmp.Stride:]
			for x, c := range cs {
				for ch := 0; ch < 3; ch++ {
					acc := int64(1) << (precisionBits - 1)
					for i, k := range c.k {
						acc += int64(in[4*(c.start+i)+ch]) * int64(k)
					}
					out[4*x+ch] = clip8(acc)
				}
				out[4*x+3] = 255
			}
		}
	}
	if h == sh {
		return tmp
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	cs := bilinearCoeffs(sh, h)
	for y, c := range cs {
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			for ch := 0; ch < 3; ch++ {
				acc := int64(1) << (precisionBits - 1)
				for i, k := range c.k {
					acc += int64(tmp.Pix[(c.start+i)*tmp.Stride+4*x+ch]) * int64(k)
				}
				out[4*x+ch] = clip8(acc)
			}
			out[4*x+3] = 255
		}
	}
	return dst
}
