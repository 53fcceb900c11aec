package segment

import (
	"image"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore/embed"
)

// ToOriginal maps an anomaly map made on a prepared image (mw x mh) onto
// the pixels of the original image (orig's size), for the preparations
// that keep the whole image (imageprep.FitPad, FitStretch): FitPad's
// padding is cut off, and the rest scaled bilinearly. Under FitCrop the
// map stays as it is: the crop is what was inspected.
func ToOriginal(prep imageprep.Config, m []float32, mw, mh int, orig image.Rectangle) ([]float32, int, int) {
	if prep.Fit == imageprep.FitCrop {
		return m, mw, mh
	}
	box := prep.Content(orig).Intersect(image.Rect(0, 0, mw, mh))
	inner := m
	if box.Dx() != mw || box.Dy() != mh {
		inner = make([]float32, 0, box.Dx()*box.Dy())
		for y := box.Min.Y; y < box.Max.Y; y++ {
			inner = append(inner, m[y*mw+box.Min.X:y*mw+box.Max.X]...)
		}
	}
	w, h := orig.Dx(), orig.Dy()
	if box.Dx() == w && box.Dy() == h {
		return inner, w, h
	}
	return embed.Upsample(inner, 1, box.Dy(), box.Dx(), h, w), w, h
}

// OntoOriginal puts a map as a Detector returns it on the original
// image's pixels under every fit: under FitCrop it is scaled onto the
// part of the image the crop showed (imageprep.Config.Shown) and the
// rest, never inspected, scores 0; under the whole-image fits the map is
// there already and returned as it is. It is for comparing fits on the
// same pixels (tessera eval --pixels original).
func OntoOriginal(prep imageprep.Config, m []float32, mw, mh int, orig image.Rectangle) ([]float32, int, int) {
	if prep.Fit != imageprep.FitCrop {
		return m, mw, mh
	}
	w, h := orig.Dx(), orig.Dy()
	out := make([]float32, w*h)
	box := prep.Shown(orig)
	if box.Empty() {
		return out, w, h
	}
	up := embed.Upsample(m, 1, mh, mw, box.Dy(), box.Dx())
	for y := 0; y < box.Dy(); y++ {
		copy(out[(box.Min.Y+y)*w+box.Min.X:], up[y*box.Dx():(y+1)*box.Dx()])
	}
	return out, w, h
}
