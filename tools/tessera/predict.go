package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/segment"
)

// prediction is one line of predict's JSON output.
type prediction struct {
	Image       string  `json:"image"`
	Score       float64 `json:"score,omitempty"`
	Threshold   float64 `json:"threshold,omitempty"`
	IsAnomalous bool    `json:"is_anomalous"`
	Heatmap     string  `json:"heatmap,omitempty"`
	Error       string  `json:"error,omitempty"`
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("predict", stderr)
	bankPath := fs.String("bank", "", "memory bank file made by fit")
	model := fs.String("model", "", "ONNX model (default: the one the bank names, looked up in the weights folder)")
	weightsDir := fs.String("weights", "", "weights folder (default $TESSERA_WEIGHTS or weights/)")
	backend := fs.String("backend", "auto", "compute backend: auto, webgpu, or cpu")
	searchMode := fs.String("search", string(patchcore.SearchAuto), searchUsage)
	heatmaps := fs.String("heatmaps", "", "folder to write <image>_heatmap.png overlays into")
	threshold := fs.Float64("threshold", 0, "decision threshold instead of the bank's")
	maxPixels := fs.Int("max-pixels", imageprep.MaxPixels, "largest image read, in pixels (checked from its header before decoding)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *maxPixels < 1 {
		return fmt.Errorf("predict: --max-pixels %d, want at least 1", *maxPixels)
	}
	if !(*threshold >= 0) || math.IsInf(*threshold, 0) {
		return fmt.Errorf("predict: threshold %g is not a finite, non-negative score", *threshold)
	}
	if *bankPath == "" || fs.NArg() == 0 {
		return errors.New("predict: give --bank BANK and one or more images")
	}
	b, err := bank.ReadFile(*bankPath)
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if *threshold > 0 {
		b.Threshold, b.ThresholdRule = *threshold, fmt.Sprintf("set by hand to %g", *threshold)
	}
	if b.Threshold == 0 {
		fmt.Fprintf(stderr, "predict: the bank has no threshold (%s): every image passes; give --threshold\n", b.ThresholdRule)
	}
	det, err := detectorFor(b, modelFlags{model: *model, weightsDir: *weightsDir, backend: *backend, log: stderr})
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if err := det.SetSearch(patchcore.Search(*searchMode)); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if *heatmaps != "" {
		if err := os.MkdirAll(*heatmaps, 0o755); err != nil {
			return fmt.Errorf("predict: %w", err)
		}
	}
	var out []prediction
	failed := 0
	used := map[string]bool{} // heatmap names written so far
	for _, p := range fs.Args() {
		pr := prediction{Image: p}
		img, err := imageprep.OpenMax(p, *maxPixels)
		if err == nil {
			var rs []*patchcore.Result
			if rs, err = det.Predict([]image.Image{img}); err == nil {
				r := rs[0]
				pr.Score, pr.Threshold, pr.IsAnomalous = r.Score, r.Threshold, r.IsAnomalous
				if *heatmaps != "" {
					pr.Heatmap, err = writeHeatmap(*heatmaps, p, b.Prep.Prepare(img), r, used)
				}
			}
		}
		if err != nil {
			pr.Error = err.Error()
			failed++
		}
		out = append(out, pr)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("predict: %d of %d images failed (see their \"error\")", failed, len(out))
	}
	return nil
}

// detectorFor loads the bank's model (or the one given) and checks that
// it is the model the bank was made with.
func detectorFor(b *bank.Bank, mf modelFlags) (*patchcore.Detector, error) {
	if mf.model == "" {
		mf.model, mf.byName = b.ModelName, true
	}
	mf.sha256 = b.ModelSHA256
	mf.layers, mf.resize, mf.crop = strings.Join(b.Layers, ","), b.Prep.Resize, b.Prep.Crop
	x, err := mf.extractor()
	if err != nil {
		return nil, err
	}
	x.Prep = b.Prep
	return patchcore.NewDetector(x, b)
}

// writeHeatmap saves the anomaly map over the prepared image, on the
// colour scale of segment.HotAt.
// used holds the names written in this run: two images whose folder and
// file names agree get _2, _3... rather than overwriting each other.
func writeHeatmap(dir, imagePath string, prepared *image.RGBA, r *patchcore.Result, used map[string]bool) (string, error) {
	hi := segment.HotAt(r.Threshold, r.Map)
	// The parent folder keeps test/good/000.png and test/crack/000.png apart.
	stem := filepath.Base(filepath.Dir(imagePath)) + "_" + strings.TrimSuffix(filepath.Base(imagePath), filepath.Ext(imagePath))
	p := filepath.Join(dir, stem+"_heatmap.png")
	for n := 2; used[p]; n++ {
		p = filepath.Join(dir, fmt.Sprintf("%s_%d_heatmap.png", stem, n))
	}
	used[p] = true
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	if err := png.Encode(f, segment.Overlay(prepared, r.Map, 0, hi)); err != nil {
		f.Close()
		return "", err
	}
	return p, f.Close()
}
