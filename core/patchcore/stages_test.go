package patchcore_test

import (
	"image"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/internal/shared"
)

func TestHoldoutSplit(t *testing.T) {
	for _, c := range []struct {
		n         int
		frac      float64
		wantHeld  int
		firstHeld int
	}{{0, 0.1, 0, -1}, {1, 0.1, 0, -1}, {2, 0.1, 1, 1}, {12, 0.1, 1, 11}, {209, 0.1, 21, 8}, {30, 0, 0, -1}} {
		train, hold := patchcore.HoldoutSplit(c.n, c.frac)
		if len(hold) != c.wantHeld || len(train)+len(hold) != c.n {
			t.Errorf("n=%d frac=%g: %d kept, %d held; want %d held", c.n, c.frac, len(train), len(hold), c.wantHeld)
			continue
		}
		if len(hold) > 0 && hold[0] != c.firstHeld {
			t.Errorf("n=%d: first held out %d, want %d", c.n, hold[0], c.firstHeld)
		}
		all := slices.Sorted(slices.Values(append(append([]int(nil), train...), hold...)))
		for i, v := range all {
			if v != i {
				t.Fatalf("n=%d: the split is not a partition of 0..n-1: %v", c.n, all)
			}
		}
	}
}

// TestStagesMatchFit runs Fit's steps as the browser's worker pool does:
// the training images embedded in two parts, joined in order, the bank
// made of them, the held-out images scored in two parts. The bank must be
// Fit's, vector for vector, with the same threshold.
func TestStagesMatchFit(t *testing.T) {
	paths, err := dataset.TrainImages(shared.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	x := extractor(t, "mobilenetv2-layer3.onnx")
	cfg := patchcore.Default()
	all := images(paths)
	want, _, err := patchcore.Fit(x, all, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	trainIdx, holdIdx := patchcore.HoldoutSplit(len(all), cfg.Holdout)
	var train, hold []patchcore.Image
	for _, i := range trainIdx {
		train = append(train, all[i])
	}
	for _, i := range holdIdx {
		hold = append(hold, all[i])
	}
	var tm patchcore.Timings
	var fails []patchcore.Failure
	half := len(train) / 2
	joined := &patchcore.Features{}
	for _, part := range [][]patchcore.Image{train[:half], train[half:]} {
		f, err := x.Embed(part, cfg, &tm, &fails, func(int) {})
		if err != nil {
			t.Fatal(err)
		}
		joined.Vectors = append(joined.Vectors, f.Vectors...)
		joined.Images += f.Images
		joined.GridH, joined.GridW = f.GridH, f.GridW
	}
	got, err := patchcore.NewBank(x, joined, cfg, &tm, nil)
	if err != nil {
		t.Fatal(err)
	}
	det, err := patchcore.NewDetector(x, got)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := det.ScoreHeldOut(hold, cfg, &tm, &fails, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := patchcore.SetThreshold(got, scores, cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Vectors, want.Vectors) || got.N != want.N || got.TrainImages != want.TrainImages {
		t.Fatalf("bank from the steps: %d vectors from %d images; Fit's: %d from %d, or other vectors", got.N, got.TrainImages, want.N, want.TrainImages)
	}
	if got.Threshold != want.Threshold || got.ThresholdRule != want.ThresholdRule {
		t.Errorf("threshold %g (%s), Fit's %g (%s)", got.Threshold, got.ThresholdRule, want.Threshold, want.ThresholdRule)
	}

	// A bank of infinities scores every image Inf, or cannot be indexed:
	// an error either way, not a score.
	inf := *got
	inf.Vectors = make([]float32, len(got.Vectors))
	for i := range inf.Vectors {
		inf.Vectors[i] = float32(math.Inf(1))
	}
	for _, mode := range []patchcore.Search{patchcore.SearchBrute, patchcore.SearchExact} {
		det, err := patchcore.NewDetector(x, &inf)
		if err != nil {
			t.Fatal(err)
		}
		if err := det.SetSearch(mode); err != nil {
			t.Fatal(err)
		}
		img, err := imageprep.Open(paths[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := det.Predict([]image.Image{img}); err == nil || !strings.Contains(err.Error(), "finite") {
			t.Errorf("%s search on a bank of infinities: error %v", mode, err)
		}
	}

	// Features that do not add up are refused before the coreset runs.
	bad := &patchcore.Features{Vectors: joined.Vectors[:len(joined.Vectors)-cfg.Embed.TargetDim], Images: joined.Images, GridH: joined.GridH, GridW: joined.GridW}
	if _, err := patchcore.NewBank(x, bad, cfg, &tm, nil); err == nil || !strings.Contains(err.Error(), "feature values") {
		t.Errorf("features one patch short: err %v", err)
	}
	if _, err := patchcore.NewBank(x, &patchcore.Features{}, cfg, &tm, nil); err == nil {
		t.Error("no features: no error")
	}
}

// TestThresholdNeverSilentlyZero: a fit that holds no image out has no
// threshold to set, which is an error unless one is set by hand (a
// threshold of 0 would flag nothing).
func TestThresholdNeverSilentlyZero(t *testing.T) {
	paths, err := dataset.TrainImages(shared.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	x := extractor(t, "mobilenetv2-layer3.onnx")
	cfg := patchcore.Default()
	cfg.Holdout = 0
	if _, _, err := patchcore.Fit(x, images(paths[:4]), cfg, nil); err == nil || !strings.Contains(err.Error(), "set a threshold by hand") {
		t.Errorf("holdout 0: error %v", err)
	}
	cfg.Threshold = 123
	b, _, err := patchcore.Fit(x, images(paths[:4]), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Threshold != 123 || !strings.Contains(b.ThresholdRule, "by hand") {
		t.Errorf("threshold %g (%s), want 123 set by hand", b.Threshold, b.ThresholdRule)
	}
	cfg.Threshold = math.NaN()
	if _, _, err := patchcore.Fit(x, images(paths[:4]), cfg, nil); err == nil || !strings.Contains(err.Error(), "threshold NaN") {
		t.Errorf("threshold NaN: error %v", err)
	}
}

// TestModelFileLimits: a device or a FIFO named as the model is refused,
// not read for ever.
func TestModelFileLimits(t *testing.T) {
	if _, err := patchcore.LoadExtractor("/dev/zero", backbone.Options{}, imageprep.ImageNet(), compute.Fixed(cpu.New(1))); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero as the model: error %v", err)
	}
}
