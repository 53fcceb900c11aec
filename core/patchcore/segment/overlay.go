package segment

import (
	"image"
	"image/color"
)

// Heat maps v in [0, 1] to a colour running blue, cyan, green, yellow, red.
func Heat(v float32) color.RGBA {
	v = min(max(v, 0), 1)
	ramp := func(x float32) uint8 { return uint8(255 * min(max(x, 0), 1)) }
	return color.RGBA{
		R: ramp(1.5 - abs(4*v-3)),
		G: ramp(1.5 - abs(4*v-2)),
		B: ramp(1.5 - abs(4*v-1)),
		A: 255,
	}
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// Overlay blends an anomaly map (same size as img) over img: values are
// scaled so that lo is cold and hi is hot, and cold areas stay mostly
// transparent so the part shows through.
func Overlay(img *image.RGBA, m []float32, lo, hi float32) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	span := hi - lo
	if span <= 0 {
		span = 1
	}
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			v := (m[y*b.Dx()+x] - lo) / span
			v = min(max(v, 0), 1)
			h := Heat(v)
			alpha := 0.25 + 0.5*v
			i := img.PixOffset(b.Min.X+x, b.Min.Y+y)
			o := out.PixOffset(x, y)
			for c, hc := range [3]uint8{h.R, h.G, h.B} {
				out.Pix[o+c] = uint8(float32(img.Pix[i+c])*(1-alpha) + float32(hc)*alpha)
			}
			out.Pix[o+3] = 255
		}
	}
	return out
}

// HotAt is the map value drawn hottest: twice the decision threshold, so
// the same colour means the same score on every image, or the map's own
// maximum when there is no threshold.
func HotAt(threshold float64, m []float32) float32 {
	hi := float32(2 * threshold)
	if hi <= 0 {
		for _, v := range m {
			hi = max(hi, v)
		}
	}
	return hi
}
