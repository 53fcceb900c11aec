package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/internal/shared"
)

// convertCategory writes a copy of an MVTec category with every image
// (and mask) in another format, keeping at most perFolder images a
// folder; write encodes one decoded image.
func convertCategory(t *testing.T, src, dst, ext string, perFolder int, write func(io.Writer, image.Image) error) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		e := strings.ToLower(filepath.Ext(p))
		if e != ".png" && e != ".jpg" {
			return nil
		}
		if siblings, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "*"+filepath.Ext(p))); indexOf(siblings, p) >= perFolder && !strings.Contains(p, "ground_truth") {
			return nil
		}
		img, err := imageprep.Open(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, strings.TrimSuffix(rel, filepath.Ext(rel))+ext)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		var b bytes.Buffer
		if err := write(&b, img); err != nil {
			return err
		}
		return os.WriteFile(out, b.Bytes(), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// sixteenBit widens an image to 16 bits a channel, each value v as
// v*257: exact to 8 bits, as a 16-bit camera file of the same image.
func sixteenBit(img image.Image) image.Image {
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok {
		out := image.NewGray16(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				out.SetGray16(x, y, color.Gray16{uint16(g.GrayAt(x, y).Y) * 257})
			}
		}
		return out
	}
	out := image.NewRGBA64(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out.SetRGBA64(x, y, color.RGBA64{uint16(c.R) * 257, uint16(c.G) * 257, uint16(c.B) * 257, 0xffff})
		}
	}
	return out
}

// TestCameraFormatCategories: a category of PNG files (a part of the
// shared bottle set, or the shipped sample written as PNG), written as
// BMP and as 16-bit TIFF, evaluates to the same per-image scores (1e-6
// relative) and the same AUROCs.
func TestCameraFormatCategories(t *testing.T) {
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	dir := t.TempDir()
	src := filepath.Join(shared.Root(), "data", "mvtec-ad-256", "bottle")
	if _, err := os.Stat(src); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		src = filepath.Join(dir, "png")
		convertCategory(t, shared.Sample(t), src, ".png", 1000, png.Encode)
	}
	cats := map[string]string{"png": filepath.Join(dir, "png-part"), "bmp": filepath.Join(dir, "bmp"), "tiff16": filepath.Join(dir, "tiff16")}
	convertCategory(t, src, cats["png"], ".png", 16, png.Encode)
	convertCategory(t, src, cats["bmp"], ".bmp", 16, bmp.Encode)
	convertCategory(t, src, cats["tiff16"], ".tiff", 16, func(w io.Writer, m image.Image) error { return tiff.Encode(w, sixteenBit(m), nil) })
	reports := map[string]evalReport{}
	for name, cat := range cats {
		js := filepath.Join(dir, name+".json")
		var out, errOut bytes.Buffer
		if err := run([]string{"eval", "-q", "--backend", "cpu", "--weights", weights, "--data", cat, "--json", js, "--report", filepath.Join(dir, name+".html")}, &out, &errOut); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, errOut.String())
		}
		b, _ := os.ReadFile(js)
		var r evalReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		reports[name] = r
	}
	ref := reports["png"]
	if ref.TestImages < 8 || ref.PixelAUROC == 0 {
		t.Fatalf("the PNG category: %d test images, pixel AUROC %g", ref.TestImages, ref.PixelAUROC)
	}
	for _, name := range []string{"bmp", "tiff16"} {
		r := reports[name]
		if len(r.Images) != len(ref.Images) || r.ImageAUROC != ref.ImageAUROC || math.Abs(r.PixelAUROC-ref.PixelAUROC) > 1e-9 {
			t.Errorf("%s: %d images, AUROC %g / %g; PNG: %d, %g / %g", name, len(r.Images), r.ImageAUROC, r.PixelAUROC, len(ref.Images), ref.ImageAUROC, ref.PixelAUROC)
			continue
		}
		for i, im := range r.Images {
			want := ref.Images[i].Score
			if math.Abs(im.Score-want) > 1e-6*want {
				t.Errorf("%s: %s scores %g, the PNG %g", name, im.Path, im.Score, want)
			}
		}
	}
}

// TestWholeImageEval: eval with the whole image padded measures its maps
// against the masks on the original pixels, and so does the crop with
// --pixels original (the crop's outside scoring 0); both find the
// sample's defects where the masks put them.
func TestWholeImageEval(t *testing.T) {
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	dir := t.TempDir()
	for _, args := range [][]string{{"--fit", "pad", "--size", "256x256"}, {"--pixels", "original"}} {
		js := filepath.Join(dir, "e.json")
		var out, errOut bytes.Buffer
		a := append([]string{"eval", "-q", "--backend", "cpu", "--weights", weights, "--data", shared.Sample(t), "--json", js}, args...)
		if err := run(a, &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		b, _ := os.ReadFile(js)
		var r evalReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: image AUROC %.4f, pixel AUROC %.4f, PRO %.4f on %s pixels", args, r.ImageAUROC, r.PixelAUROC, r.PRO, r.PixelsOn)
		if r.PixelsOn != "original" || r.ImageAUROC < 0.95 || r.PixelAUROC < 0.95 || r.PRO < 0.8 || len(r.Failures) > 0 {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// TestTileBanksEval: on a category of one image size, eval with one bank
// per tile position makes 9 banks for 512x512 images in 224x224 tiles,
// and finds the sample's defects as the one bank does.
func TestTileBanksEval(t *testing.T) {
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	dir := t.TempDir()
	square := imageprep.Config{Fit: imageprep.FitStretch, Width: 512, Height: 512, Std: [3]float32{1, 1, 1}}
	cat := filepath.Join(dir, "square")
	convertCategory(t, shared.Sample(t), cat, ".png", 1000, func(w io.Writer, m image.Image) error { return png.Encode(w, square.Prepare(m)) })
	for _, banks := range []string{"one", "position"} {
		js := filepath.Join(dir, banks+".json")
		var out, errOut bytes.Buffer
		if err := run([]string{"eval", "-q", "--backend", "cpu", "--weights", weights, "--data", cat, "--json", js,
			"--fit", "tile", "--size", "224x224", "--overlap", "32", "--tile-banks", banks}, &out, &errOut); err != nil {
			t.Fatalf("%s: %v\n%s", banks, err, errOut.String())
		}
		b, _ := os.ReadFile(js)
		var r evalReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s bank(s): %d banks, %d vectors; image AUROC %.4f, pixel AUROC %.4f, PRO %.4f", banks, r.TileBanks, r.BankSize, r.ImageAUROC, r.PixelAUROC, r.PRO)
		if wantBanks := map[string]int{"one": 0, "position": 9}[banks]; r.TileBanks != wantBanks || r.ImageAUROC < 0.95 || r.PixelAUROC < 0.9 {
			t.Errorf("%s: %+v", banks, r)
		}
	}
}
