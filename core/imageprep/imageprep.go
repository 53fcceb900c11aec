// Package imageprep turns image files into the normalised NCHW float32
// tensors an ImageNet backbone expects, reproducing torchvision's
// Resize(256) -> CenterCrop(224) -> ToTensor -> Normalize on PIL images:
// the resize is PIL's antialiased bilinear filter in its 8-bit fixed-point
// form, so results match PIL to the last bit for PNG input.
package imageprep

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // register decoders
	_ "image/png"
	"io"
	"math"
	"os"

	// Industrial cameras write BMP and TIFF (8- and 16-bit, often gray).
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Formats are the image formats Decode reads.
const Formats = "PNG, JPEG, BMP, TIFF or WebP"

// Config says how images are prepared.
type Config struct {
	// Resize is the length the short side is scaled to (0: no resize).
	Resize int `json:"resize"`
	// Crop is the side of the centred square that is kept (0: no crop).
	Crop int `json:"crop"`
	// Fit is how an image meets the network's input: FitCrop (Resize and
	// Crop, the reference's), or FitPad or FitStretch, which keep the
	// whole image at Width x Height.
	Fit string `json:"fit,omitempty"`
	// Width and Height are the network's input for FitPad, FitStretch
	// and FitTile (the tile's size).
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Overlap is how many pixels FitTile's neighbouring tiles share.
	Overlap int `json:"overlap,omitempty"`
	// Mean and Std normalise each RGB channel after scaling to [0, 1].
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
}

// The ways an image meets the network's input size.
const (
	// FitCrop scales the short side to Resize and keeps the centred
	// Crop x Crop square: torchvision's Resize then CenterCrop, what the
	// reference does. A non-square image loses its ends.
	FitCrop = ""
	// FitPad scales the whole image, aspect kept, to fit Width x Height
	// and pads the rest with the mean colour (0 once normalised): nothing
	// is lost or distorted, at the cost of input pixels spent on padding.
	FitPad = "pad"
	// FitStretch scales the whole image to Width x Height, aspect not
	// kept: nothing is lost, and a long strip is squeezed.
	FitStretch = "stretch"
	// FitTile cuts the image, at its own resolution, into Width x Height
	// tiles that overlap by Overlap pixels and cover it all (the last
	// tile of a row or column is set against the far edge; an image
	// smaller than a tile is padded with the mean colour): for large
	// images where scaling down would erase small defects. A tile is a
	// network input; an image's score is its tiles' largest.
	FitTile = "tile"
)

// maxInputSide bounds Width and Height: a network input of 4096 x 4096
// already takes gigabytes of activations.
const maxInputSide = 4096

// InputSize is the network input the preparation makes: the crop's
// square, Width x Height, or 0, 0 where it leaves the size as the image
// has it (no crop).
func (c Config) InputSize() (h, w int) {
	if c.Fit == FitCrop {
		return c.Crop, c.Crop
	}
	return c.Height, c.Width
}

// ImageNet is the preprocessing of torchvision's ImageNet models.
func ImageNet() Config {
	return Config{
		Resize: 256,
		Crop:   224,
		Mean:   [3]float32{0.485, 0.456, 0.406},
		Std:    [3]float32{0.229, 0.224, 0.225},
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch c.Fit {
	case FitCrop:
		if c.Width != 0 || c.Height != 0 {
			return fmt.Errorf("imageprep: a size of %dx%d is for fit %q or %q; crop mode uses resize and crop", c.Width, c.Height, FitPad, FitStretch)
		}
	case FitPad, FitStretch, FitTile:
		if c.Overlap < 0 || c.Overlap > 0 && (c.Fit != FitTile || 2*c.Overlap >= min(c.Width, c.Height)) {
			return fmt.Errorf("imageprep: overlap %d: want 0 up to half a tile, and only with fit %q", c.Overlap, FitTile)
		}
		if c.Width < 1 || c.Height < 1 || c.Width > maxInputSide || c.Height > maxInputSide {
			return fmt.Errorf("imageprep: fit %q needs a size of 1 to %d a side, not %dx%d", c.Fit, maxInputSide, c.Width, c.Height)
		}
		if c.Resize != 0 || c.Crop != 0 {
			return fmt.Errorf("imageprep: fit %q keeps the whole image: resize and crop must be 0, not %d and %d", c.Fit, c.Resize, c.Crop)
		}
	default:
		return fmt.Errorf("imageprep: fit %q: want crop, pad, stretch or tile", c.Fit)
	}
	if c.Resize < 0 || c.Crop < 0 {
		return fmt.Errorf("imageprep: negative size (resize %d, crop %d)", c.Resize, c.Crop)
	}
	if c.Resize > 0 && c.Crop > c.Resize {
		return fmt.Errorf("imageprep: crop %d is larger than the resized short side %d", c.Crop, c.Resize)
	}
	for i, s := range c.Std {
		if s == 0 {
			return fmt.Errorf("imageprep: std of channel %d is zero", i)
		}
	}
	return nil
}

// MaxPixels is the largest image Decode accepts: 64 megapixels, about a
// 256 MB RGBA buffer (16-bit images take twice that).
const MaxPixels = 64 << 20

// Decode decodes an image (Formats) of at most MaxPixels.
func Decode(b []byte) (image.Image, error) { return DecodeMax(b, MaxPixels) }

// DecodeMax decodes an image (Formats) of at most maxPixels. The size
// comes from the header, before any pixel buffer is allocated: a file of
// a few hundred bytes can declare gigapixels.
func DecodeMax(b []byte, maxPixels int) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("imageprep: cannot decode image (%s expected): %w", Formats, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("imageprep: %s image is empty (%dx%d)", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, &TooManyPixelsError{Format: format, Width: cfg.Width, Height: cfg.Height, Limit: maxPixels}
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("imageprep: cannot decode image (%s expected): %w", Formats, err)
	}
	if r := img.Bounds(); r.Dx() == 0 || r.Dy() == 0 {
		return nil, fmt.Errorf("imageprep: %s image is empty", format)
	}
	return img, nil
}

// TooManyPixelsError is an image whose header declares more pixels than
// the limit: refused before its pixels are decoded.
type TooManyPixelsError struct {
	Format        string
	Width, Height int
	Limit         int
}

func (e *TooManyPixelsError) Error() string {
	return fmt.Sprintf("imageprep: %s image of %dx%d pixels is over the limit of %d", e.Format, e.Width, e.Height, e.Limit)
}

// MaxFileBytes is the largest image file Open reads.
const MaxFileBytes = 1 << 29

// Open reads and decodes an image file of at most MaxPixels: a regular
// file of at most MaxFileBytes (a device or a FIFO given as an image would
// never end).
func Open(path string) (image.Image, error) { return OpenMax(path, MaxPixels) }

// OpenMax is Open with another pixel limit.
func OpenMax(path string, maxPixels int) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imageprep: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("imageprep: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("imageprep: %s is not a regular file", path)
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("imageprep: %s: %d bytes is over the limit of %d for an image file", path, st.Size(), MaxFileBytes)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("imageprep: %w", err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("imageprep: %s grew past %d bytes while read", path, MaxFileBytes)
	}
	img, err := DecodeMax(b, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// Prepare resizes and crops an image of any kind (grayscale, RGB, RGBA,
// paletted, 16-bit) into 8-bit RGB, alpha dropped as PIL's convert("RGB")
// does.
func (c Config) Prepare(img image.Image) *image.RGBA {
	rgb := toRGB(img)
	switch c.Fit {
	case FitTile:
		return rgb // cut into tiles by Tensors
	case FitStretch:
		if rgb.Rect.Dx() != c.Width || rgb.Rect.Dy() != c.Height {
			rgb = resize(rgb, c.Width, c.Height)
		}
		return rgb
	case FitPad:
		return c.pad(rgb)
	}
	if nw, nh := c.resized(rgb.Rect.Dx(), rgb.Rect.Dy()); nw != rgb.Rect.Dx() || nh != rgb.Rect.Dy() {
		rgb = resize(rgb, nw, nh)
	}
	if c.Crop > 0 {
		rgb = centerCrop(rgb, c.Crop)
	}
	return rgb
}

// Shown is the part of an image of bounds r (origin-based) that the
// prepared image shows, in r's pixels: all of it for the whole-image
// fits, the crop's square scaled back for FitCrop (clipped to the image).
func (c Config) Shown(r image.Rectangle) image.Rectangle {
	w, h := r.Dx(), r.Dy()
	if c.Fit != FitCrop || c.Crop == 0 {
		return image.Rect(0, 0, w, h)
	}
	rw, rh := c.resized(w, h)
	top := math.RoundToEven(float64(rh-c.Crop) / 2)
	left := math.RoundToEven(float64(rw-c.Crop) / 2)
	sx, sy := float64(w)/float64(rw), float64(h)/float64(rh)
	box := image.Rect(int(math.Round(left*sx)), int(math.Round(top*sy)),
		int(math.Round((left+float64(c.Crop))*sx)), int(math.Round((top+float64(c.Crop))*sy)))
	return box.Intersect(image.Rect(0, 0, w, h))
}

// resized is a w x h image's size once its short side is Resize (FitCrop).
func (c Config) resized(w, h int) (int, int) {
	if c.Resize == 0 {
		return w, h
	}
	// torchvision keeps the aspect ratio, truncating the long side.
	if w < h {
		return c.Resize, int(float64(c.Resize) * float64(h) / float64(w))
	}
	return int(float64(c.Resize) * float64(w) / float64(h)), c.Resize
}

// Content is where the image lies in the prepared one: the whole of it
// but for FitPad's padding, and for FitCrop the crop itself.
func (c Config) Content(r image.Rectangle) image.Rectangle {
	if c.Fit == FitTile {
		return image.Rectangle{Max: r.Size()}
	}
	if c.Fit != FitPad {
		h, w := c.InputSize()
		if h == 0 {
			w, h = c.resized(r.Dx(), r.Dy())
		}
		return image.Rect(0, 0, w, h)
	}
	nw, nh := c.padSize(r.Dx(), r.Dy())
	x0, y0 := (c.Width-nw)/2, (c.Height-nh)/2
	return image.Rect(x0, y0, x0+nw, y0+nh)
}

// padSize is the scaled image's size inside FitPad's Width x Height.
func (c Config) padSize(w, h int) (int, int) {
	s := math.Min(float64(c.Width)/float64(w), float64(c.Height)/float64(h))
	nw := min(c.Width, max(1, int(math.Round(float64(w)*s))))
	nh := min(c.Height, max(1, int(math.Round(float64(h)*s))))
	return nw, nh
}

// pad scales rgb, aspect kept, into Width x Height on the mean colour.
func (c Config) pad(rgb *image.RGBA) *image.RGBA {
	box := c.Content(rgb.Rect)
	if box.Dx() != rgb.Rect.Dx() || box.Dy() != rgb.Rect.Dy() {
		rgb = resize(rgb, box.Dx(), box.Dy())
	}
	out := c.fill()
	for y := 0; y < box.Dy(); y++ {
		copy(out.Pix[(box.Min.Y+y)*out.Stride+4*box.Min.X:], rgb.Pix[y*rgb.Stride:y*rgb.Stride+4*box.Dx()])
	}
	return out
}

// Canvas is the image an anomaly map lies on: the prepared image under
// FitCrop (what was inspected), the original, as 8-bit RGB, under the
// preparations that keep the whole image (whose maps are mapped back to
// it, see segment.ToOriginal).
func (c Config) Canvas(img image.Image) *image.RGBA {
	if c.Fit == FitCrop {
		return c.Prepare(img)
	}
	return toRGB(img)
}

// Tiles are FitTile's tiles of an image of bounds r (origin-based), row
// by row; under the other fits, the one rectangle of the whole image.
func (c Config) Tiles(r image.Rectangle) []image.Rectangle {
	if c.Fit != FitTile {
		return []image.Rectangle{{Max: r.Size()}}
	}
	starts := func(size, tile int) []int {
		if size <= tile {
			return []int{0}
		}
		var out []int
		step := tile - c.Overlap
		for at := 0; ; at += step {
			if at+tile >= size {
				return append(out, size-tile)
			}
			out = append(out, at)
		}
	}
	var out []image.Rectangle
	for _, y := range starts(r.Dy(), c.Height) {
		for _, x := range starts(r.Dx(), c.Width) {
			out = append(out, image.Rect(x, y, x+c.Width, y+c.Height).Intersect(image.Rectangle{Max: r.Size()}))
		}
	}
	return out
}

// Tensors prepares an image as the network's inputs: one tensor, or
// under FitTile one per tile (Tiles), each 3 x H x W normalised floats.
func (c Config) Tensors(img image.Image) ([][]float32, []image.Rectangle, error) {
	if c.Fit != FitTile {
		t, err := c.Tensor(img)
		return [][]float32{t}, c.Tiles(img.Bounds()), err
	}
	if err := c.Check(img.Bounds()); err != nil {
		return nil, nil, err
	}
	rgb := toRGB(img)
	tiles := c.Tiles(img.Bounds())
	if len(tiles) > maxTiles {
		return nil, nil, fmt.Errorf("imageprep: a %dx%d image is %d tiles of %dx%d, over the limit of %d", img.Bounds().Dx(), img.Bounds().Dy(), len(tiles), c.Width, c.Height, maxTiles)
	}
	out := make([][]float32, len(tiles))
	for i, t := range tiles {
		tile := rgb.SubImage(t).(*image.RGBA)
		if t.Dx() != c.Width || t.Dy() != c.Height {
			// Smaller than a tile: padded, top left, with the mean colour.
			p := c.fill()
			draw.Draw(p, image.Rectangle{Max: t.Size()}, tile, t.Min, draw.Src)
			tile = p
		}
		out[i] = c.Normalize(toRGB(tile))
	}
	return out, tiles, nil
}

// maxTiles bounds the tiles of one image (a 64-megapixel image is 1,337
// tiles of 224x224).
const maxTiles = 4096

// fill is a Width x Height image of the mean colour (0 once normalised).
func (c Config) fill() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, c.Width, c.Height))
	var px [4]uint8
	for ch := 0; ch < 3; ch++ {
		px[ch] = uint8(math.Round(float64(c.Mean[ch]) * 255))
	}
	px[3] = 255
	for i := 0; i < len(out.Pix); i += 4 {
		copy(out.Pix[i:i+4], px[:])
	}
	return out
}

// Tensor prepares an image and returns it as 3 x H x W normalised floats.
func (c Config) Tensor(img image.Image) ([]float32, error) {
	if c.Fit == FitTile {
		return nil, errors.New("imageprep: a tiled image is several tensors (Tensors)")
	}
	if err := c.Check(img.Bounds()); err != nil {
		return nil, err
	}
	return c.Normalize(c.Prepare(img)), nil
}

// Check reports an image that Prepare would blow up past MaxPixels: the
// short side is resized to Resize, so a 1 x 100,000 strip would become
// 256 x 25.6 million pixels.
func (c Config) Check(r image.Rectangle) error {
	w, h := int64(r.Dx()), int64(r.Dy())
	if w <= 0 || h <= 0 {
		return fmt.Errorf("imageprep: image is empty (%dx%d)", w, h)
	}
	if c.Fit != FitCrop {
		return nil // the output is Width x Height, checked by Validate
	}
	if c.Resize > 0 {
		short := min(w, h)
		w, h = w*int64(c.Resize)/short, h*int64(c.Resize)/short
	}
	if w*h > MaxPixels {
		return fmt.Errorf("imageprep: a %dx%d image resized to %d on its short side is %dx%d pixels, over the limit of %d", r.Dx(), r.Dy(), c.Resize, w, h, MaxPixels)
	}
	return nil
}

// Normalize converts an RGB image to 3 x H x W floats, (v/255-mean)/std.
func (c Config) Normalize(rgb *image.RGBA) []float32 {
	w, h := rgb.Rect.Dx(), rgb.Rect.Dy()
	out := make([]float32, 3*w*h)
	for y := 0; y < h; y++ {
		row := rgb.Pix[y*rgb.Stride:]
		for x := 0; x < w; x++ {
			for ch := 0; ch < 3; ch++ {
				v := float32(row[4*x+ch]) / 255
				out[ch*w*h+y*w+x] = (v - c.Mean[ch]) / c.Std[ch]
			}
		}
	}
	return out
}

// RGB is any image as opaque 8-bit RGB at the origin, unresized: what
// Prepare starts from.
func RGB(img image.Image) *image.RGBA { return toRGB(img) }

// toRGB copies any image into an opaque 8-bit RGBA image at the origin.
func toRGB(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				v := src.Pix[y*src.Stride+x]
				i := y*out.Stride + 4*x
				out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = v, v, v, 255
			}
		}
		return out
	case *image.NRGBA:
		// Straight alpha: the colour channels are the stored values.
		for y := 0; y < b.Dy(); y++ {
			copy(out.Pix[y*out.Stride:(y+1)*out.Stride], src.Pix[y*src.Stride:])
		}
	case *image.RGBA:
		draw.Draw(out, out.Rect, src, b.Min, draw.Src)
	case *image.YCbCr:
		// JPEG's own layout, read in place: At boxes every pixel in an
		// interface, which made this a third of a prediction. YCbCrToRGB
		// gives what At and NRGBAModel give, for all 2^24 inputs.
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				yi, ci := src.YOffset(b.Min.X+x, b.Min.Y+y), src.COffset(b.Min.X+x, b.Min.Y+y)
				i := y*out.Stride + 4*x
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
			}
		}
	default:
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				if g, ok := img.At(b.Min.X+x, b.Min.Y+y).(color.Gray16); ok {
					v := uint8(g.Y >> 8)
					c = color.NRGBA{v, v, v, 255}
				}
				i := y*out.Stride + 4*x
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
			}
		}
	}
	for i := 3; i < len(out.Pix); i += 4 {
		out.Pix[i] = 255
	}
	return out
}

// centerCrop keeps the centred size x size square, rounding the offset
// half-to-even as torchvision's CenterCrop does.
func centerCrop(img *image.RGBA, size int) *image.RGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w < size || h < size {
		// torchvision pads with zeros when the image is smaller than the crop.
		padded := image.NewRGBA(image.Rect(0, 0, max(w, size), max(h, size)))
		for i := 3; i < len(padded.Pix); i += 4 {
			padded.Pix[i] = 255
		}
		ox, oy := int(math.RoundToEven(float64(max(size-w, 0))/2)), int(math.RoundToEven(float64(max(size-h, 0))/2))
		draw.Draw(padded, img.Rect.Add(image.Pt(ox, oy)), img, image.Point{}, draw.Src)
		img, w, h = padded, padded.Rect.Dx(), padded.Rect.Dy()
	}
	top := int(math.RoundToEven(float64(h-size) / 2))
	left := int(math.RoundToEven(float64(w-size) / 2))
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		copy(out.Pix[y*out.Stride:(y+1)*out.Stride], img.Pix[(top+y)*img.Stride+4*left:])
	}
	return out
}
