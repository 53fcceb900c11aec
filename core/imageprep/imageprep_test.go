package imageprep

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/color"
	"io"
	"math"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBilinearCoeffsHalving(t *testing.T) {
	// Halving: each output sees inputs 2x-1..2x+2 with triangle weights
	// 1/8, 3/8, 3/8, 1/8 (support widened to 2), clipped at the border.
	cs := bilinearCoeffs(8, 4)
	one := float64(int32(1) << precisionBits)
	want := []float64{0.125, 0.375, 0.375, 0.125}
	c := cs[1]
	if c.start != 1 || len(c.k) != 4 {
		t.Fatalf("output 1: start %d, %d taps; want 1, 4", c.start, len(c.k))
	}
	for i, k := range c.k {
		if d := float64(k)/one - want[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("tap %d = %g, want %g", i, float64(k)/one, want[i])
		}
	}
	// At the border the taps that fall outside are dropped and the rest
	// renormalised: 3/7, 3/7, 1/7.
	if c0 := cs[0]; c0.start != 0 || len(c0.k) != 3 || c0.k[2] != int32(one/7+0.5) {
		t.Errorf("output 0: start %d taps %v", c0.start, c0.k)
	}
}

func TestResizeKeepsFlatImage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 37, 19))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	out := resize(img, 11, 53)
	for i, v := range out.Pix {
		if v != 200 && i%4 != 3 {
			t.Fatalf("flat image changed: pix[%d]=%d", i, v)
		}
	}
}

func TestPrepareShapes(t *testing.T) {
	c := ImageNet()
	gray := image.NewGray(image.Rect(0, 0, 300, 600))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i % 251)
	}
	out := c.Prepare(gray)
	if out.Rect.Dx() != 224 || out.Rect.Dy() != 224 {
		t.Fatalf("prepared size %v", out.Rect)
	}
	// Grayscale is replicated to three equal channels.
	for i := 0; i < len(out.Pix); i += 4 {
		if out.Pix[i] != out.Pix[i+1] || out.Pix[i] != out.Pix[i+2] {
			t.Fatalf("gray pixel %d became %v", i/4, out.Pix[i:i+3])
		}
	}
	// RGBA with transparency: alpha is dropped, colour kept (PIL's convert).
	nrgba := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for i := 0; i < len(nrgba.Pix); i += 4 {
		nrgba.Pix[i], nrgba.Pix[i+1], nrgba.Pix[i+2], nrgba.Pix[i+3] = 10, 20, 30, 0
	}
	x, err := c.Tensor(nrgba)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 3*224*224 {
		t.Fatalf("tensor length %d", len(x))
	}
	if want := (10.0/255 - 0.485) / 0.229; abs(float64(x[0])-want) > 1e-5 {
		t.Errorf("red of a transparent pixel: %g, want %g", x[0], want)
	}
	// A small image is padded to the crop size rather than failing.
	small := c.Prepare(image.NewRGBA(image.Rect(0, 0, 10, 10)))
	if small.Rect.Dx() != 224 {
		t.Errorf("small image prepared to %v", small.Rect)
	}
}

func TestDecodeErrors(t *testing.T) {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	if _, err := Decode(buf.Bytes()); err != nil {
		t.Fatalf("valid PNG: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("definitely not an image"),
		"truncated": buf.Bytes()[:buf.Len()/2],
	} {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Open("/nonexistent/x.png"); err == nil {
		t.Error("missing file: no error")
	}
	// A device named as an image would be read for ever.
	if _, err := Open("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: error %v", err)
	}
	if err := (Config{Resize: 100, Crop: 200, Std: [3]float32{1, 1, 1}}).Validate(); err == nil {
		t.Error("crop larger than resize: no error")
	}
}

// hugePNG is a 1x1 PNG whose header claims w x h pixels: a few dozen
// bytes that a decoder trusting its header would allocate gigabytes for.
func hugePNG(t *testing.T, w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// IHDR: length (4) "IHDR" (4) width (4) height (4) ... CRC over type+data.
	const at = 8
	binary.BigEndian.PutUint32(b[at+8:], w)
	binary.BigEndian.PutUint32(b[at+12:], h)
	binary.BigEndian.PutUint32(b[at+8+13:], crc32.ChecksumIEEE(b[at+4:at+8+13]))
	return b
}

func TestDecodeRefusesHugeImages(t *testing.T) {
	for _, sz := range [][2]uint32{{1, 100000000}, {40000, 40000}, {70000, 70000}} {
		_, err := Decode(hugePNG(t, sz[0], sz[1]))
		if err == nil || !strings.Contains(err.Error(), "over the limit") {
			t.Errorf("%dx%d PNG: error %v, want the pixel limit", sz[0], sz[1], err)
		}
	}
	// Under the limit, the same trick is only a truncated file.
	if _, err := DecodeMax(hugePNG(t, 100, 100), 1<<20); err == nil || strings.Contains(err.Error(), "over the limit") {
		t.Errorf("100x100 header on 1 pixel of data: error %v, want a decoding error", err)
	}
	if _, err := DecodeMax(hugePNG(t, 100, 100), 99*100); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("limit of 9,900 pixels for 10,000: error %v", err)
	}
}

// TestCheckRefusesBlowUps: a strip that resizing would make gigapixels
// is refused before any buffer is made.
func TestCheckRefusesBlowUps(t *testing.T) {
	c := ImageNet()
	if _, err := c.Tensor(image.NewGray(image.Rect(0, 0, 1, 100000))); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("1x100000 strip: error %v", err)
	}
	if err := c.Check(image.Rect(0, 0, 500, 1250)); err != nil {
		t.Errorf("a 500x1250 strip: %v", err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// opaque hides an image's type, so that toRGB takes its generic path.
type opaque struct{ image.Image }

// TestYCbCrFastPath: JPEG's YCbCr images, read in place, give the bytes
// the generic path gives, for every chroma subsampling and for a
// sub-image off the origin.
func TestYCbCrFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		full := image.NewYCbCr(image.Rect(0, 0, 37, 29), ratio)
		for _, p := range [][]uint8{full.Y, full.Cb, full.Cr} {
			for i := range p {
				p[i] = uint8(rng.IntN(256))
			}
		}
		for _, img := range []*image.YCbCr{full, full.SubImage(image.Rect(3, 5, 30, 27)).(*image.YCbCr)} {
			got, want := toRGB(img), toRGB(opaque{img})
			if !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect {
				t.Errorf("%v %v: the fast path differs from the generic one", ratio, img.Rect)
			}
		}
	}
}

// TestCameraFormats: an image written as BMP, as 8-bit gray and 16-bit
// RGB TIFF, decodes to the same prepared tensor as the PNG it came from
// (16-bit values being the 8-bit ones times 257, exact to 8 bits as a
// 16-bit PNG is); a WebP is read.
func TestCameraFormats(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	src := image.NewNRGBA(image.Rect(0, 0, 300, 260))
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			src.Pix[i] = 255
		}
	}
	gray := image.NewGray(src.Rect)
	wide := image.NewRGBA64(src.Rect)
	for y := 0; y < 260; y++ {
		for x := 0; x < 300; x++ {
			c := src.NRGBAAt(x, y)
			gray.Pix[y*gray.Stride+x] = c.G
			wide.SetRGBA64(x, y, color.RGBA64{uint16(c.R) * 257, uint16(c.G) * 257, uint16(c.B) * 257, 0xffff})
		}
	}
	encode := func(img image.Image, f func(io.Writer, image.Image) error) []byte {
		var b bytes.Buffer
		if err := f(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tiffEnc := func(w io.Writer, m image.Image) error { return tiff.Encode(w, m, nil) }
	c := ImageNet()
	tensor := func(data []byte) []float32 {
		img, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		x, err := c.Tensor(img)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tc := range []struct {
		name      string
		data, ref []byte
	}{
		{"BMP", encode(src, bmp.Encode), encode(src, png.Encode)},
		{"16-bit RGB TIFF", encode(wide, tiffEnc), encode(src, png.Encode)},
		{"8-bit gray TIFF", encode(gray, tiffEnc), encode(gray, png.Encode)},
	} {
		got, want := tensor(tc.data), tensor(tc.ref)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: value %d is %g, the PNG's %g", tc.name, i, got[i], want[i])
			}
		}
	}
	// A 1x1 lossless WebP.
	webp, _ := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	if img, err := Decode(webp); err != nil || img.Bounds().Dx() != 1 {
		t.Errorf("WebP: %v", err)
	}
	if _, err := Decode([]byte("GIF89a")); err == nil || !strings.Contains(err.Error(), "BMP, TIFF or WebP expected") {
		t.Errorf("an unknown format: %v", err)
	}
}

// TestWholeImageFits: pad keeps the aspect and fills the rest with the
// mean colour, stretch fills the size; both keep every part of the image,
// and bad sizes are refused by name.
func TestWholeImageFits(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 500, 1250)) // a tall strip
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	pad := ImageNet()
	pad.Fit, pad.Resize, pad.Crop, pad.Width, pad.Height = FitPad, 0, 0, 320, 320
	if err := pad.Validate(); err != nil {
		t.Fatal(err)
	}
	p := pad.Prepare(img)
	box := pad.Content(img.Bounds())
	if p.Rect.Dx() != 320 || p.Rect.Dy() != 320 || box != image.Rect(96, 0, 224, 320) {
		t.Fatalf("pad: %v, content %v; want 320x320 with the strip at x 96-224", p.Rect, box)
	}
	if p.RGBAAt(10, 10).R != uint8(math.Round(0.485*255)) || p.RGBAAt(160, 160).R != 200 {
		t.Errorf("pad: padding %v, image %v", p.RGBAAt(10, 10), p.RGBAAt(160, 160))
	}
	if h, w := pad.InputSize(); h != 320 || w != 320 {
		t.Errorf("pad input %dx%d", w, h)
	}
	st := pad
	st.Fit, st.Width, st.Height = FitStretch, 256, 512
	if s := st.Prepare(img); s.Rect.Dx() != 256 || s.Rect.Dy() != 512 || st.Content(img.Bounds()) != s.Rect {
		t.Errorf("stretch: %v", s.Rect)
	}
	if c := st.Canvas(img); c.Rect.Size() != img.Rect.Size() {
		t.Errorf("a whole-image fit's canvas is %v, want the original's %v", c.Rect, img.Rect)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Fit: FitPad, Width: 0, Height: 10, Std: [3]float32{1, 1, 1}}, "needs a size"},
		{Config{Fit: FitPad, Width: 5000, Height: 10, Std: [3]float32{1, 1, 1}}, "needs a size"},
		{Config{Fit: FitStretch, Width: 10, Height: 10, Resize: 256, Std: [3]float32{1, 1, 1}}, "resize and crop must be 0"},
		{Config{Fit: "zoom", Std: [3]float32{1, 1, 1}}, "want crop, pad, stretch or tile"},
		{Config{Resize: 256, Crop: 224, Width: 10, Std: [3]float32{1, 1, 1}}, "is for fit"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

// TestTiles: tiles overlap as asked, the last of a row or column is set
// against the far edge, they cover the whole image, and an image smaller
// than a tile is one padded tile.
func TestTiles(t *testing.T) {
	c := ImageNet()
	c.Fit, c.Resize, c.Crop, c.Width, c.Height, c.Overlap = FitTile, 0, 0, 224, 224, 32
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tiles := c.Tiles(image.Rect(0, 0, 512, 300))
	want := []image.Rectangle{
		image.Rect(0, 0, 224, 224), image.Rect(192, 0, 416, 224), image.Rect(288, 0, 512, 224),
		image.Rect(0, 76, 224, 300), image.Rect(192, 76, 416, 300), image.Rect(288, 76, 512, 300),
	}
	if fmt.Sprint(tiles) != fmt.Sprint(want) {
		t.Errorf("tiles %v, want %v", tiles, want)
	}
	img := image.NewGray(image.Rect(0, 0, 100, 500))
	ts, rects, err := c.Tensors(img)
	if err != nil || len(ts) != 3 || len(ts[0]) != 3*224*224 || rects[0] != image.Rect(0, 0, 100, 224) {
		t.Fatalf("a narrow image: %d tiles %v, %v", len(ts), rects, err)
	}
	// The padding right of the 100 columns is the mean colour: 0 once normalised.
	if v := ts[0][150]; math.Abs(float64(v)) > 0.01 {
		t.Errorf("padding normalises to %g, want about 0", v)
	}
	if _, err := c.Tensor(img); err == nil {
		t.Error("Tensor of a tiled fit: no error")
	}
	c.Overlap = 112
	if err := c.Validate(); err == nil {
		t.Error("overlap of half a tile accepted")
	}
}
