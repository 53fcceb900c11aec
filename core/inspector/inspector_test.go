package inspector_test

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/internal/shared"
)

// sample is the committed hazelnut sample: its training images and a few
// test images, decoded.
func sample(t *testing.T) ([]patchcore.Image, []image.Image) {
	t.Helper()
	cat := shared.Sample(t)
	paths, err := dataset.TrainImages(cat)
	if err != nil {
		t.Fatal(err)
	}
	train := patchcore.ImageFiles(paths, imageprep.MaxPixels)
	tests, err := dataset.Test(cat)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []image.Image
	for _, s := range tests[:4] {
		img, err := imageprep.Open(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	return train, imgs
}

func scores(t *testing.T, in *inspector.Inspector, imgs []image.Image, overlay bool) []float64 {
	t.Helper()
	ps, err := in.Predict(imgs, inspector.PredictOptions{Overlay: overlay})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.Score
		if overlay != (p.Overlay != nil) {
			t.Errorf("overlay asked %v, got %v", overlay, p.Overlay != nil)
		}
		if p.Overlay != nil && (p.Overlay.Rect.Dx() != p.MapW || p.Overlay.Rect.Dy() != p.MapH) {
			t.Errorf("overlay %v for a %dx%d map", p.Overlay.Rect, p.MapW, p.MapH)
		}
	}
	return out
}

// TestFitSaveLoad fits with non-default layers and preparation, saves the
// bank, and loads it into an inspector opened with the defaults, from the
// model's bytes as the browser has them: it must rebuild the bank's
// extractor and give the same scores. A bank of another model, or a bank
// file that is not one, is refused and leaves the loaded bank in place.
func TestFitSaveLoad(t *testing.T) {
	train, imgs := sample(t)
	modelPath := shared.Weights(t, "mobilenetv2-layer3.onnx")
	prep := imageprep.ImageNet()
	prep.Resize, prep.Crop = 240, 192
	fitter, err := inspector.Open(inspector.Model{Path: modelPath}, inspector.Options{Backend: "cpu", Layers: []string{"layer3"}, Prep: prep})
	if err != nil {
		t.Fatal(err)
	}
	cfg := patchcore.Default()
	cfg.BankPrecision = "f16"
	rep, err := fitter.Fit(train, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 0 || fitter.Bank().Threshold <= 0 {
		t.Fatalf("fit: failures %v, threshold %g", rep.Failures, fitter.Bank().Threshold)
	}
	want := scores(t, fitter, imgs, true)
	bankPath := filepath.Join(t.TempDir(), "b.tbank")
	if err := fitter.SaveBank(bankPath); err != nil {
		t.Fatal(err)
	}

	model, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	in, err := inspector.Open(inspector.Model{Bytes: model, Name: "mobilenetv2-layer3.onnx"}, inspector.Options{Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Info(); got.Input != [3]int{3, 224, 224} {
		t.Fatalf("default input %v", got.Input)
	}
	if err := in.LoadBank(bankPath); err != nil {
		t.Fatal(err)
	}
	if got := in.Info(); got.Input != [3]int{3, 192, 192} || strings.Join(got.Layers, ",") != "layer3" {
		t.Errorf("after loading the bank: input %v, layers %v; want 192x192 and layer3", got.Input, got.Layers)
	}
	got := scores(t, in, imgs, false)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-5*want[i] {
			t.Errorf("image %d: %g after loading, %g when fitted", i, got[i], want[i])
		}
	}

	// Refusals leave the bank as it was.
	if err := in.DecodeBank([]byte("TBNK garbage")); err == nil {
		t.Error("garbage bank accepted")
	}
	other := *fitter.Bank()
	other.ModelSHA256 = strings.Repeat("0", 64)
	if err := in.UseBank(&other); err == nil || !strings.Contains(err.Error(), "made with model") {
		t.Errorf("another model's bank: %v", err)
	}
	if again := scores(t, in, imgs[:1], false); again[0] != got[0] {
		t.Errorf("after refusals the score is %g, was %g", again[0], got[0])
	}

	// OpenForBank checks the model file against the bank's hash.
	b := fitter.Bank()
	b.ModelSHA256 = strings.Repeat("1", 64)
	if _, err := inspector.OpenForBank(b, inspector.Model{Path: modelPath}, inspector.Options{Backend: "cpu"}); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("a model that is not the bank's: %v", err)
	}
}

// TestOptionsRefused: bad options fail before any model is read.
func TestOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		opts inspector.Options
		want string
	}{
		{inspector.Options{Backend: "tpu"}, "unknown backend"},
		{inspector.Options{Search: "fast"}, "search"},
		{inspector.Options{Batch: -1}, "batch"},
	} {
		_, err := inspector.Open(inspector.Model{Path: "/nonexistent.onnx"}, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %q", c.opts, err, c.want)
		}
	}
	if _, err := inspector.Open(inspector.Model{}, inspector.Options{}); err == nil {
		t.Error("no model accepted")
	}
}

// TestBenchBackbone times a few passes: positive, ordered figures from
// the backend named.
func TestBenchBackbone(t *testing.T) {
	in, err := inspector.Open(inspector.Model{Path: shared.Weights(t, "mobilenetv2-layer3.onnx")}, inspector.Options{Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := in.BenchBackbone(5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !(r.P10MS > 0 && r.P10MS <= r.MedianMS && r.MedianMS <= r.P90MS) || r.GFLOPs <= 0 || !strings.HasPrefix(r.Backend, "cpu") || r.Runs != 5 || r.Batch != 2 {
		t.Errorf("bench %+v", r)
	}
}

// TestWholeImageFit: a bank fitted with the whole image padded into a
// non-square input loads into a default-opened inspector (the model
// loaded again at 256x192), scores as when fitted, and its maps and
// overlays lie on the original images' pixels.
func TestWholeImageFit(t *testing.T) {
	train, imgs := sample(t)
	modelPath := shared.Weights(t, "mobilenetv2-layer3.onnx")
	prep := imageprep.ImageNet()
	prep.Fit, prep.Resize, prep.Crop, prep.Width, prep.Height = imageprep.FitPad, 0, 0, 256, 192
	fitter, err := inspector.Open(inspector.Model{Path: modelPath}, inspector.Options{Backend: "cpu", Prep: prep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fitter.Fit(train, patchcore.Default(), nil); err != nil {
		t.Fatal(err)
	}
	want := scores(t, fitter, imgs, true)
	in := reload(t, fitter, modelPath)
	if got := in.Info().Input; got != [3]int{3, 192, 256} {
		t.Errorf("input %v after loading, want 3x192x256", got)
	}
	ps, err := in.Predict(imgs, inspector.PredictOptions{Overlay: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if math.Abs(p.Score-want[i]) > 1e-5*want[i] {
			t.Errorf("image %d: %g loaded, %g fitted", i, p.Score, want[i])
		}
		if size := imgs[i].Bounds().Size(); p.MapW != size.X || p.MapH != size.Y || p.Overlay.Rect.Size() != size {
			t.Errorf("image %d (%v): map %dx%d, overlay %v; want the original's size", i, size, p.MapW, p.MapH, p.Overlay.Rect)
		}
	}
}

// TestTiledFit: a bank of 224x224 tiles cut from the sample's 512x512
// images (9 an image, overlapping by 32) scores the defects above the
// good images, its maps stitched on the original pixels, and loads into a
// default-opened inspector with the same scores.
func TestTiledFit(t *testing.T) {
	train, imgs := sample(t)
	modelPath := shared.Weights(t, "mobilenetv2-layer3.onnx")
	prep := imageprep.ImageNet()
	prep.Fit, prep.Resize, prep.Crop, prep.Width, prep.Height, prep.Overlap = imageprep.FitTile, 0, 0, 224, 224, 32
	fitter, err := inspector.Open(inspector.Model{Path: modelPath}, inspector.Options{Backend: "cpu", Prep: prep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fitter.Fit(train[:6], patchcore.Default(), nil); err != nil {
		t.Fatal(err)
	}
	if b := fitter.Bank(); b.TrainImages != 5*9 {
		t.Errorf("bank of %d tiles, want 45 (5 images of 9)", b.TrainImages)
	}
	want := scores(t, fitter, imgs, true)
	in := reload(t, fitter, modelPath)
	ps, err := in.Predict(imgs, inspector.PredictOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if p.Score != want[i] || p.MapW != 512 || p.MapH != 512 || len(p.PatchScores) != 9*p.GridH*p.GridW {
			t.Errorf("image %d: score %g (fitted %g), map %dx%d, %d patch scores", i, p.Score, want[i], p.MapW, p.MapH, len(p.PatchScores))
		}
		top := float32(0)
		for _, v := range p.Map {
			top = max(top, v)
		}
		// The blur lowers the peak below the largest patch score.
		if float64(top) > p.Score*(1+1e-6) || float64(top) < 0.5*p.Score {
			t.Errorf("image %d: the stitched map peaks at %g, the score is %g", i, top, p.Score)
		}
	}
}

// reload opens the model with the default options and loads the bank
// fitter holds, from its file's bytes.
func reload(t *testing.T, fitter *inspector.Inspector, modelPath string) *inspector.Inspector {
	t.Helper()
	data, err := fitter.EncodeBank()
	if err != nil {
		t.Fatal(err)
	}
	in, err := inspector.Open(inspector.Model{Path: modelPath}, inspector.Options{Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.DecodeBank(data); err != nil {
		t.Fatal(err)
	}
	return in
}
