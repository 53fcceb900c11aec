package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/metrics"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/segment"
)

// evalReport is what eval writes as JSON.
type evalReport struct {
	Category     string  `json:"category"`
	Model        string  `json:"model"`
	Coreset      float64 `json:"coreset_fraction"`
	K            int     `json:"k"`
	TrainImages  int     `json:"train_images"`
	TrainPatches int     `json:"train_patches"`
	BankSize     int     `json:"bank_size"`
	// BankPrecision is how the bank's vectors were stored (f32 or f16).
	BankPrecision string `json:"bank_precision"`
	Search        string `json:"search"`
	// SearchWork is the share of brute force's exact distances the
	// prediction's search computed (1 for brute force).
	SearchWork float64 `json:"search_work"`
	Threshold  float64 `json:"threshold"`
	TestImages int     `json:"test_images"`
	ImageAUROC float64 `json:"image_auroc"`
	PixelAUROC float64 `json:"pixel_auroc"`
	PRO        float64 `json:"pro"`
	// PixelNote says why pixel AUROC and PRO are absent (0): a category
	// without ground-truth masks still gets its image figures.
	PixelNote string `json:"pixel_note,omitempty"`
	// TileBanks is the number of banks, one per tile position, under
	// --tile-banks position (0: one bank).
	TileBanks int `json:"tile_banks,omitempty"`
	// PixelsOn says which pixels pixel AUROC and PRO were measured on:
	// "prepared" (what the network saw) or "original" (the whole image).
	PixelsOn string `json:"pixels_on"`
	// PerKind, Confusion and Worst are what the report shows a quality
	// engineer: image AUROC per defect type, the verdicts at the stored
	// threshold, and the worst cases of each kind.
	PerKind   []kindFigures   `json:"per_defect_type"`
	Confusion confusion       `json:"confusion_at_threshold"`
	Worst     worstCases      `json:"worst_cases"`
	Fit       timingReport    `json:"fit"`
	Predict   predictTiming   `json:"predict"`
	Images    []evalImage     `json:"images"`
	Failures  []string        `json:"failures,omitempty"`
	imageROC  []metrics.Point // for the report
	proCurve  []metrics.Point // for the report
	examples  []example       // for the report
}

type timingReport struct {
	TotalS    float64 `json:"total_s"`
	BackboneS float64 `json:"backbone_s"`
	EmbedS    float64 `json:"embed_s"`
	CoresetS  float64 `json:"coreset_s"`
	SearchS   float64 `json:"threshold_search_s"`
}

type predictTiming struct {
	MedianMS float64 `json:"median_ms"`
	// Shares of the predict time per stage: backbone, embed, search, map.
	BackboneShare float64 `json:"backbone_share"`
	EmbedShare    float64 `json:"embed_share"`
	SearchShare   float64 `json:"search_share"`
	OtherShare    float64 `json:"map_and_other_share"`
}

type evalImage struct {
	Path        string  `json:"path"`
	Kind        string  `json:"kind"`
	Score       float64 `json:"score"`
	IsAnomalous bool    `json:"is_anomalous"`
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	var mf modelFlags
	mf.register(fs)
	fs.IntVar(&mf.batch, "batch", patchcore.Default().Batch, "images per backbone pass (a GPU wants 32 or more)")
	var pf patchcoreFlags
	pf.register(fs)
	data := fs.String("data", "", "MVTec-layout category folder")
	jsonOut := fs.String("json", "", "write the figures as JSON here")
	tileBanks := fs.String("tile-banks", "one", "with --fit tile: one bank of all tiles (what fit saves), or position: one bank per tile position (anomalib's tiled ensemble), built here only to measure it")
	pixels := fs.String("pixels", "", "where pixel AUROC and PRO are measured: prepared (the pixels the network saw: the crop under --fit crop, the reference's way) or original (every pixel of the image; outside a crop scores 0); default prepared under crop, original under pad and stretch")
	reportOut := fs.String("report", "", "write an HTML report with ROC curves and example heatmaps (default: next to --json)")
	quiet := fs.Bool("q", false, "no progress output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("eval: --data is required")
	}
	if *pixels != "" && *pixels != "prepared" && *pixels != "original" {
		return fmt.Errorf("eval: --pixels %q: want prepared or original", *pixels)
	}
	if fit := mf.prep().Fit; *pixels == "prepared" && fit != imageprep.FitCrop {
		return fmt.Errorf("eval: --pixels prepared: the maps of --fit %s are on the original pixels", fit)
	}
	if *tileBanks != "one" && (*tileBanks != "position" || mf.prep().Fit != imageprep.FitTile) {
		return fmt.Errorf("eval: --tile-banks %q: want one, or position with --fit tile", *tileBanks)
	}
	if *reportOut == "" && *jsonOut != "" {
		*reportOut = trimExt(*jsonOut) + ".html"
	}
	train, err := dataset.TrainImages(*data)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	test, err := dataset.Test(*data)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	// Bad settings fail before the model is loaded.
	cfg := pf.config()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	in, err := mf.open(cfg.Search)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	var progress patchcore.Progress
	if !*quiet {
		progress = progressPrinter(stderr)
	}
	t0 := time.Now()
	var fitRep *patchcore.FitReport
	var tiles *positionBanks
	if *tileBanks == "position" {
		tiles, fitRep, err = fitPositionBanks(in, patchcore.ImageFiles(train, mf.pixels()), cfg)
	} else {
		fitRep, err = in.Fit(patchcore.ImageFiles(train, mf.pixels()), cfg, progress)
	}
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	fitTime := time.Since(t0)
	b := in.Bank()
	if tiles != nil {
		b = tiles.dets[0].Bank()
	}
	onOriginal := *pixels == "original" || b.Prep.Fit != imageprep.FitCrop
	pixelsOn := "prepared"
	if onOriginal {
		pixelsOn = "original"
	}
	// Prediction's timings and search work, apart from the fit's.
	det := in.Detector()
	if tiles != nil {
		det = tiles.dets[0]
	}
	timings := det.Timings
	if tiles != nil {
		timings = tiles.timings
	}
	before, beforeStats := timings(), det.SearchStats()
	rep := &evalReport{
		Category: *data, Model: b.ModelName, Coreset: cfg.Coreset.Fraction, K: b.K,
		TrainImages: b.TrainImages, TrainPatches: b.TrainPatches, BankSize: b.N, Threshold: b.Threshold,
		BankPrecision: cmp.Or(b.Precision, bank.F32), PixelsOn: pixelsOn,
		Fit: timingReport{
			TotalS: fitTime.Seconds(), BackboneS: fitRep.Timings.Backbone.Seconds(), EmbedS: fitRep.Timings.Embed.Seconds(),
			CoresetS: fitRep.Timings.Coreset.Seconds(), SearchS: fitRep.Timings.Search.Seconds(),
		},
	}
	if tiles != nil {
		rep.BankSize, rep.TrainPatches = tiles.size()
		rep.TileBanks = len(tiles.dets)
	}
	for _, f := range fitRep.Failures {
		rep.Failures = append(rep.Failures, f.Error())
	}
	var scores []float32
	var labels []bool
	var maps [][]float32
	var masks []metrics.Mask
	var lat []float64
	var predTotal time.Duration
	for i, s := range test {
		img, err := imageprep.OpenMax(s.Path, mf.pixels())
		if err != nil {
			rep.Failures = append(rep.Failures, err.Error())
			continue
		}
		mask, err := loadMask(s, b.Prep, img.Bounds(), onOriginal)
		if err != nil {
			rep.Failures = append(rep.Failures, err.Error())
			continue
		}
		t := time.Now()
		var r *patchcore.Result
		if tiles != nil {
			r, err = tiles.predict(img)
		} else {
			var rs []inspector.Prediction
			if rs, err = in.Predict([]image.Image{img}, inspector.PredictOptions{}); err == nil {
				r = rs[0].Result
			}
		}
		if err != nil {
			return fmt.Errorf("eval: %s: %w", s.Path, err)
		}
		d := time.Since(t)
		predTotal += d
		lat = append(lat, d.Seconds()*1e3)
		scores = append(scores, float32(r.Score))
		labels = append(labels, s.Label)
		m := r.Map
		if onOriginal {
			m, _, _ = segment.OntoOriginal(b.Prep, r.Map, r.MapW, r.MapH, img.Bounds())
		}
		maps = append(maps, m)
		masks = append(masks, mask)
		rep.Images = append(rep.Images, evalImage{s.Path, s.Kind, r.Score, r.IsAnomalous})
		rep.examples = append(rep.examples, example{sample: s, score: r.Score, m: r.Map})
		if progress != nil {
			progress("test", i+1, len(test))
		}
	}
	rep.TestImages = len(scores)
	if rep.ImageAUROC, err = metrics.AUROC(scores, labels); err != nil {
		return fmt.Errorf("eval: image AUROC: %w", err)
	}
	rep.imageROC, _ = metrics.ROC(scores, labels)
	summarize(rep)
	var pix []float32
	var pixLabels []bool
	for i, m := range maps {
		pix = append(pix, m...)
		pixLabels = append(pixLabels, masks[i].Pix...)
	}
	if !slices.Contains(pixLabels, true) {
		rep.PixelNote = "no ground-truth mask marks a defect: pixel AUROC and PRO need masks (MVTec layout: ground_truth/<kind>/<name>_mask.png)"
	} else {
		if rep.PixelAUROC, err = metrics.AUROC(pix, pixLabels); err != nil {
			return fmt.Errorf("eval: pixel AUROC: %w", err)
		}
		if rep.proCurve, err = metrics.PROCurve(maps, masks); err != nil {
			return fmt.Errorf("eval: PRO: %w", err)
		}
		rep.PRO = metrics.Area(rep.proCurve, 0.3) / 0.3
	}
	t := timings()
	t.Backbone -= before.Backbone
	t.Embed -= before.Embed
	t.Search -= before.Search
	st := det.SearchStats()
	st.Queries -= beforeStats.Queries
	st.Exact -= beforeStats.Exact
	slices.Sort(lat)
	rep.Predict = predictTiming{MedianMS: inspector.Median(lat)}
	rep.Search, rep.SearchWork = string(cfg.Search), 1
	if st.Queries > 0 {
		rep.SearchWork = float64(st.Exact) / float64(st.Queries) / float64(b.N)
	}
	if tot := predTotal.Seconds(); tot > 0 {
		rep.Predict.BackboneShare = t.Backbone.Seconds() / tot
		rep.Predict.EmbedShare = t.Embed.Seconds() / tot
		rep.Predict.SearchShare = t.Search.Seconds() / tot
		rep.Predict.OtherShare = 1 - rep.Predict.BackboneShare - rep.Predict.EmbedShare - rep.Predict.SearchShare
	}
	if rep.PixelNote == "" {
		fmt.Fprintf(stdout, "%s with %s, coreset %g: image AUROC %.4f, pixel AUROC %.4f, PRO %.4f\n",
			*data, b.ModelName, cfg.Coreset.Fraction, rep.ImageAUROC, rep.PixelAUROC, rep.PRO)
	} else {
		fmt.Fprintf(stdout, "%s with %s, coreset %g: image AUROC %.4f; no pixel metrics (%s)\n",
			*data, b.ModelName, cfg.Coreset.Fraction, rep.ImageAUROC, rep.PixelNote)
	}
	fmt.Fprintf(stdout, "fit %d images in %.1fs (backbone %.1fs, embedding %.1fs, coreset %.1fs -> %d of %d patches, threshold scoring %.1fs); predict median %.1f ms/image (backbone %.0f%%, embedding %.0f%%, search %.0f%% [%s, %.2f%% of brute force's distances], map %.0f%%)\n",
		rep.TrainImages, rep.Fit.TotalS, rep.Fit.BackboneS, rep.Fit.EmbedS, rep.Fit.CoresetS, rep.BankSize, rep.TrainPatches, rep.Fit.SearchS,
		rep.Predict.MedianMS, 100*rep.Predict.BackboneShare, 100*rep.Predict.EmbedShare, 100*rep.Predict.SearchShare, rep.Search, 100*rep.SearchWork, 100*rep.Predict.OtherShare)
	for _, f := range rep.Failures {
		fmt.Fprintln(stderr, "skipped", f)
	}
	for _, out := range []string{*jsonOut, *reportOut} {
		if out != "" {
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return fmt.Errorf("eval: %w", err)
			}
		}
	}
	if *jsonOut != "" {
		buf, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, buf, 0o644); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if *reportOut != "" {
		if err := writeReport(*reportOut, rep, b.Prep); err != nil {
			return fmt.Errorf("eval: report: %w", err)
		}
		fmt.Fprintln(stdout, "report:", *reportOut)
	}
	return nil
}

// loadMask puts a ground-truth mask where its image's map lies (the
// prepared image under crop, the original under the whole-image fits;
// see imageprep.Config.Canvas), or on the original's pixels when original
// is set, and binarises it at half intensity; good images get an empty
// mask.
func loadMask(s dataset.Sample, prep imageprep.Config, img image.Rectangle, original bool) (metrics.Mask, error) {
	canvas := prep.Content(img)
	if original {
		canvas = image.Rectangle{Max: img.Size()}
	}
	m := metrics.Mask{W: canvas.Dx(), H: canvas.Dy()}
	m.Pix = make([]bool, m.W*m.H)
	if s.Mask == "" {
		return m, nil
	}
	mimg, err := imageprep.Open(s.Mask)
	if err != nil {
		return metrics.Mask{}, err
	}
	if mimg.Bounds().Size() != img.Size() {
		return metrics.Mask{}, fmt.Errorf("%s is %v, its image %v", s.Mask, mimg.Bounds().Size(), img.Size())
	}
	rgb := prep.Canvas(mimg)
	if original {
		rgb = imageprep.RGB(mimg)
	}
	if rgb.Rect.Dx() != m.W || rgb.Rect.Dy() != m.H {
		return metrics.Mask{}, fmt.Errorf("%s prepared to %v, its map is %dx%d", s.Mask, rgb.Rect.Size(), m.W, m.H)
	}
	for i := range m.Pix {
		m.Pix[i] = rgb.Pix[4*i] >= 128
	}
	return m, nil
}

func trimExt(p string) string { return p[:len(p)-len(filepath.Ext(p))] }
