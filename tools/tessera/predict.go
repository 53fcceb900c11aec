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
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/internal/weights"
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
	in, err := openForBank(b, *model, *weightsDir, modelFlags{backend: *backend, log: stderr}.options(patchcore.Search(*searchMode)))
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if *threshold > 0 {
		if err := in.SetThreshold(*threshold); err != nil {
			return fmt.Errorf("predict: %w", err)
		}
	}
	if b.Threshold == 0 {
		fmt.Fprintf(stderr, "predict: the bank has no threshold (%s): every image passes; give --threshold\n", b.ThresholdRule)
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
			var rs []inspector.Prediction
			if rs, err = in.Predict([]image.Image{img}, inspector.PredictOptions{Overlay: *heatmaps != ""}); err == nil {
				r := rs[0]
				pr.Score, pr.Threshold, pr.IsAnomalous = r.Score, r.Threshold, r.IsAnomalous
				if *heatmaps != "" {
					pr.Heatmap, err = writeHeatmap(*heatmaps, p, r.Overlay, used)
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

// openForBank loads the model bank b was made with: model (a path or a
// name in the weights folder) when given, else the model the bank names,
// looked up in the weights folder only. Its SHA-256 must be the bank's.
func openForBank(b *bank.Bank, model, weightsDir string, opts inspector.Options) (*inspector.Inspector, error) {
	resolve := weights.Resolve
	if model == "" {
		model, resolve = b.ModelName, weights.ResolveName
	}
	path, err := resolve(model, weightsDir)
	if err != nil {
		return nil, err
	}
	return inspector.OpenForBank(b, inspector.Model{Path: path}, opts)
}

// writeHeatmap saves an overlay (inspector.Overlay).
// used holds the names written in this run: two images whose folder and
// file names agree get _2, _3... rather than overwriting each other.
func writeHeatmap(dir, imagePath string, overlay *image.RGBA, used map[string]bool) (string, error) {
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
	if err := png.Encode(f, overlay); err != nil {
		f.Close()
		return "", err
	}
	return p, f.Close()
}
