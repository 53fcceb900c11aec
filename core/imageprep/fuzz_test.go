package imageprep

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"
)

// FuzzDecodeTensor: no file makes decoding and preparation panic or
// allocate past the pixel limit.
func FuzzDecodeTensor(f *testing.F) {
	img := image.NewRGBA(image.Rect(0, 0, 5, 3))
	var p, j bytes.Buffer
	png.Encode(&p, img)
	jpeg.Encode(&j, img, nil)
	f.Add(p.Bytes())
	f.Add(j.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := DecodeMax(data, 1<<16)
		if err != nil {
			return
		}
		c := ImageNet()
		c.Resize, c.Crop = 32, 24
		if x, err := c.Tensor(im); err == nil && len(x) != 3*24*24 {
			t.Fatalf("tensor of %d values, want %d", len(x), 3*24*24)
		}
	})
}
