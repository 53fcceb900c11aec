package patchcore_test

import (
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/metrics"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/internal/shared"
)

func extractor(t *testing.T, model string) *patchcore.Extractor {
	t.Helper()
	x, err := patchcore.LoadExtractor(shared.Weights(t, model), backbone.Options{}, imageprep.ImageNet(), compute.Fixed(cpu.New(0)))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// searchFails is a CPU backend whose device runs out of memory in every
// nearest-neighbour search.
type searchFails struct{ compute.Backend }

func (searchFails) Name() string { return "search-fails test device" }
func (searchFails) Nearest(compute.Index, []float32, int, int) ([]float32, error) {
	return nil, fmt.Errorf("test device: %w", compute.ErrOutOfMemory)
}

func images(paths []string) []patchcore.Image {
	return patchcore.ImageFiles(paths, imageprep.MaxPixels)
}

// TestHazelnutEndToEnd fits on the small hazelnut set and checks that the
// defective test images score above the good ones, that the maps find
// the defects, and that a saved bank scores the same after loading.
func TestHazelnutEndToEnd(t *testing.T) {
	cat := shared.Sample(t)
	train, err := dataset.TrainImages(cat)
	if err != nil {
		t.Fatal(err)
	}
	x := extractor(t, "mobilenetv2-layer3.onnx")
	// A file that is not an image, in the middle of the list.
	broken := filepath.Join(t.TempDir(), "broken.jpg")
	os.WriteFile(broken, []byte("\xff\xd8\xff garbage"), 0o644)
	list := append(append(append([]string(nil), train[:10]...), broken), train[10:]...)
	var stages []string
	b, rep, err := patchcore.Fit(x, images(list), patchcore.Default(), func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].Name != broken {
		t.Fatalf("failures %v, want just %s", rep.Failures, broken)
	}
	if strings.Join(stages, ",") != "backbone,coreset,threshold" {
		t.Errorf("progress stages %v", stages)
	}
	held := len(rep.Holdout)
	if b.TrainImages+held+1 != len(list) || held < 1 {
		t.Errorf("%d in bank + %d held out + 1 broken != %d", b.TrainImages, held, len(list))
	}
	if want := b.TrainPatches / 10; b.N != want {
		t.Errorf("bank of %d vectors, want 10%% of %d", b.N, b.TrainPatches)
	}
	if b.Threshold <= 0 {
		t.Errorf("threshold %g", b.Threshold)
	}

	det, err := patchcore.NewDetector(x, b)
	if err != nil {
		t.Fatal(err)
	}
	test, err := dataset.Test(cat)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []image.Image
	var labels []bool
	for _, s := range test {
		img, err := imageprep.Open(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
		labels = append(labels, s.Label)
	}
	res, err := det.Predict(imgs)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]float32, len(res))
	for i, r := range res {
		scores[i] = float32(r.Score)
		if r.MapH != 224 || len(r.Map) != 224*224 || len(r.PatchScores) != 28*28 {
			t.Fatalf("result %d: map %dx%d (%d), %d patch scores", i, r.MapH, r.MapW, len(r.Map), len(r.PatchScores))
		}
	}
	auroc, err := metrics.AUROC(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	// The detector Fit scored the held-out images with predicts the same.
	if rep.Detector == nil {
		t.Fatal("Fit held images out but returned no detector")
	}
	again, err := rep.Detector.Predict(imgs[:2])
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if again[i].Score != res[i].Score || again[i].Threshold != b.Threshold {
			t.Errorf("image %d: Fit's detector scores %g (threshold %g), a new one %g (%g)", i, again[i].Score, again[i].Threshold, res[i].Score, b.Threshold)
		}
	}
	t.Logf("hazelnut sample, MobileNetV2: image AUROC %.3f over %d test images, bank %d", auroc, len(res), b.N)
	if auroc < 0.9 {
		t.Errorf("image AUROC %.3f, want >= 0.9", auroc)
	}

	// Saved and loaded, the bank gives the same scores.
	p := filepath.Join(t.TempDir(), "hazelnut.tbank")
	if err := b.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	b2, err := bank.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	det2, err := patchcore.NewDetector(x, b2)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := det2.Predict(imgs[:3])
	if err != nil {
		t.Fatal(err)
	}
	for i := range res2 {
		if res2[i].Score != res[i].Score {
			t.Errorf("image %d: %g after reload, %g before", i, res2[i].Score, res[i].Score)
		}
	}

	// A device that runs out of memory in the search moves the detector to
	// the fallback, with the same scores up to rounding (the device ran
	// brute force, the CPU prunes); without one the error surfaces.
	var logged string
	lean := func(withFallback bool) *patchcore.Extractor {
		dev := compute.Fixed(searchFails{cpu.New(0)})
		if withFallback {
			dev = compute.NewDevice(searchFails{cpu.New(0)}, func() (compute.Backend, error) { return cpu.New(0), nil }, func(m string) { logged = m })
		}
		x, err := patchcore.LoadExtractor(shared.Weights(t, "mobilenetv2-layer3.onnx"), backbone.Options{}, imageprep.ImageNet(), dev)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	x3 := lean(true)
	det3, err := patchcore.NewDetector(x3, b2)
	if err != nil {
		t.Fatal(err)
	}
	res3, err := det3.Predict(imgs[:3])
	if err != nil {
		t.Fatalf("with a fallback: %v", err)
	}
	for i := range res3 {
		if math.Abs(res3[i].Score-res[i].Score) > 1e-5*res[i].Score {
			t.Errorf("image %d: %g after failover, %g before", i, res3[i].Score, res[i].Score)
		}
	}
	if !strings.Contains(logged, "out of device memory") {
		t.Errorf("failover log %q", logged)
	}
	det4, err := patchcore.NewDetector(lean(false), b2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := det4.Predict(imgs[:1]); !errors.Is(err, compute.ErrOutOfMemory) {
		t.Errorf("without a fallback: %v, want out of device memory", err)
	}

	// A bank from another model is refused by name.
	other := extractor(t, "resnet50v2-layer3.onnx")
	if _, err := patchcore.NewDetector(other, b2); err == nil || !strings.Contains(err.Error(), "made with model mobilenetv2-layer3.onnx") {
		t.Errorf("bank from another model: %v", err)
	}
}

func TestFitErrors(t *testing.T) {
	x := extractor(t, "mobilenetv2-layer3.onnx")
	if _, _, err := patchcore.Fit(x, nil, patchcore.Default(), nil); err == nil || !strings.Contains(err.Error(), "no training images") {
		t.Errorf("empty training set: %v", err)
	}
	bad := []patchcore.Image{{Name: "a.png", Load: func() (image.Image, error) { return nil, errors.New("unreadable") }}}
	if _, _, err := patchcore.Fit(x, bad, patchcore.Default(), nil); err == nil || !strings.Contains(err.Error(), "a.png: unreadable") {
		t.Errorf("no readable images: %v", err)
	}
	if _, err := dataset.TrainImages(t.TempDir()); err == nil {
		t.Error("empty training folder: no error")
	}
	cfg := patchcore.Default()
	cfg.K = 0
	if _, _, err := patchcore.Fit(x, bad, cfg, nil); err == nil {
		t.Error("k = 0: no error")
	}
}

// TestSearchModesAgree scores the sample's test images with the pruned
// search and with brute force on the same bank: the same scores and maps
// up to float rounding, for k = 1 and k = 3.
func TestSearchModesAgree(t *testing.T) {
	cat := shared.Sample(t)
	train, err := dataset.TrainImages(cat)
	if err != nil {
		t.Fatal(err)
	}
	x := extractor(t, "mobilenetv2-layer3.onnx")
	test, err := dataset.Test(cat)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOARCH == "wasm" {
		test = []dataset.Sample{test[0], test[len(test)-1]} // a defect, a good one: scalar wasm is slow
	}
	var imgs []image.Image
	for _, s := range test {
		img, err := imageprep.Open(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	for _, k := range []int{1, 3} {
		cfg := patchcore.Default()
		cfg.K, cfg.Holdout = k, 0.2
		b, _, err := patchcore.Fit(x, images(train), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		results := map[patchcore.Search][]*patchcore.Result{}
		if det, _ := patchcore.NewDetector(x, b); det.SetSearch("nearest") == nil {
			t.Error("SetSearch took an unknown mode")
		}
		for _, mode := range []patchcore.Search{patchcore.SearchBrute, patchcore.SearchExact} {
			det, err := patchcore.NewDetector(x, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := det.SetSearch(mode); err != nil {
				t.Fatal(err)
			}
			if results[mode], err = det.Predict(imgs); err != nil {
				t.Fatal(err)
			}
			if mode == patchcore.SearchExact {
				st := det.SearchStats()
				t.Logf("k=%d: pruned search computed %.1f%% of brute force's distances (bank %d)", k, 100*float64(st.Exact)/float64(st.Queries)/float64(b.N), b.N)
			}
		}
		worst := 0.0
		for i := range imgs {
			e, r := results[patchcore.SearchExact][i], results[patchcore.SearchBrute][i]
			worst = max(worst, math.Abs(e.Score-r.Score)/r.Score)
			for j := range r.PatchScores {
				if d := math.Abs(float64(e.PatchScores[j] - r.PatchScores[j])); d > 1e-4*float64(r.PatchScores[j])+1e-3 {
					t.Fatalf("k=%d image %d patch %d: pruned %g, brute force %g", k, i, j, e.PatchScores[j], r.PatchScores[j])
				}
			}
		}
		t.Logf("k=%d: image scores differ by at most %.1e relative", k, worst)
		if worst > 1e-5 {
			t.Errorf("k=%d: pruned and brute-force image scores differ by %.1e relative", k, worst)
		}
	}
	if _, err := patchcore.ParseSearch("approximate"); err == nil {
		t.Error("an unknown search mode was accepted")
	}
}

// TestHalfBankInMemory: an f16 fit keeps its bank as halves (half the
// memory of its vectors), and its detector, reading them row by row,
// scores exactly as one over the same values in float32, with either
// search.
func TestHalfBankInMemory(t *testing.T) {
	cat := shared.Sample(t)
	train, err := dataset.TrainImages(cat)
	if err != nil {
		t.Fatal(err)
	}
	test, err := dataset.Test(cat)
	if err != nil {
		t.Fatal(err)
	}
	x := extractor(t, "mobilenetv2-layer3.onnx")
	cfg := patchcore.Default()
	cfg.BankPrecision = bank.F16
	b, _, err := patchcore.Fit(x, images(train[:6]), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Vectors != nil || len(b.Half) != b.N*b.D {
		t.Fatalf("an f16 fit holds %d float32 and %d half values for %d x %d", len(b.Vectors), len(b.Half), b.N, b.D)
	}
	wide := *b
	wide.Half, wide.Vectors = nil, b.Float32()
	img, err := imageprep.Open(test[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []patchcore.Search{patchcore.SearchExact, patchcore.SearchBrute} {
		var scores [2][]float32
		for i, bk := range []*bank.Bank{b, &wide} {
			det, err := patchcore.NewDetector(x, bk)
			if err != nil {
				t.Fatal(err)
			}
			if err := det.SetSearch(mode); err != nil {
				t.Fatal(err)
			}
			rs, err := det.Predict([]image.Image{img})
			if err != nil {
				t.Fatal(err)
			}
			scores[i] = rs[0].PatchScores
		}
		for j := range scores[0] {
			if scores[0][j] != scores[1][j] {
				t.Fatalf("%s: patch %d scores %g over the halves, %g over their float32 values", mode, j, scores[0][j], scores[1][j])
			}
		}
	}
}
