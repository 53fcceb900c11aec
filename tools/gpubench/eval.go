//go:build cgo

package main

import (
	"fmt"
	"image"
	"math"
	"slices"
	"time"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/metrics"
	"github.com/tessera/tessera/core/patchcore"
)

// EvalResult is a fit on a category's good training images and a
// prediction of its test images, on one backend.
type EvalResult struct {
	Backend     string  `json:"backend"`
	Model       string  `json:"model"`
	Batch       int     `json:"batch"`
	TrainImages int     `json:"train_images"`
	BankVectors int     `json:"bank_vectors"`
	FitSeconds  float64 `json:"fit_s"`
	BackboneS   float64 `json:"fit_backbone_s"`
	EmbedS      float64 `json:"fit_embedding_s"`
	CoresetS    float64 `json:"fit_coreset_s"`
	SearchS     float64 `json:"fit_threshold_search_s"`
	TestImages  int     `json:"test_images"`
	// PredictMS is the test set predicted Batch images at a time, per
	// image; PredictOneMS, one image at a time (the median).
	PredictMS    float64 `json:"predict_ms_per_image"`
	PredictOneMS float64 `json:"predict_one_ms"`
	ImageAUROC   float64 `json:"image_auroc"`
	// MaxScoreDiff is the largest relative difference of an image score
	// from the CPU backend's (the WebGPU row only).
	MaxScoreDiff float64 `json:"max_score_rel_diff_vs_cpu,omitempty"`
}

func (r *Report) eval(w weightFiles, modelName, category string, trainLimit, testLimit, batch int) error {
	path, err := w.model(modelName)
	if err != nil {
		return err
	}
	trainPaths, err := dataset.TrainImages(category)
	if err != nil {
		return err
	}
	if trainLimit > 0 && trainLimit < len(trainPaths) {
		trainPaths = trainPaths[:trainLimit]
	}
	test, err := dataset.Test(category)
	if err != nil {
		return err
	}
	if testLimit > 0 && testLimit < len(test) {
		// Evenly spread, so that good and defective images both stay.
		picked := make([]dataset.Sample, testLimit)
		for i := range picked {
			picked[i] = test[i*len(test)/testLimit]
		}
		test = picked
	}
	imgs := make([]image.Image, len(test))
	labels := make([]bool, len(test))
	for i, s := range test {
		if imgs[i], err = imageprep.Open(s.Path); err != nil {
			return err
		}
		labels[i] = s.Label
	}
	var cpuScores []float32
	for _, be := range []struct {
		kind  string
		batch int
	}{{"cpu", 8}, {"webgpu", batch}} {
		in, err := inspector.Open(inspector.Model{Path: path}, inspector.Options{Backend: be.kind, Batch: be.batch})
		if err != nil {
			return err
		}
		res, scores, err := evalOn(in, trainPaths, imgs, labels)
		in.Close()
		if err != nil {
			return fmt.Errorf("on %s: %w", be.kind, err)
		}
		res.Model, res.Batch = modelName, be.batch
		if cpuScores == nil {
			cpuScores = scores
		} else {
			for i := range scores {
				res.MaxScoreDiff = max(res.MaxScoreDiff, math.Abs(float64(scores[i]-cpuScores[i]))/math.Abs(float64(cpuScores[i])))
			}
			if res.MaxScoreDiff > 1e-3 {
				r.fail("eval on WebGPU: image scores differ from the CPU's by %.2e (relative)", res.MaxScoreDiff)
			}
		}
		r.Eval = append(r.Eval, res)
		r.logf("eval %s on %s (batch %d): fit %.1f s (backbone %.1f, embedding %.1f, coreset %.1f, threshold search %.1f), predict %.2f ms an image batched, %.2f ms one at a time, image AUROC %.4f",
			modelName, res.Backend, be.batch, res.FitSeconds, res.BackboneS, res.EmbedS, res.CoresetS, res.SearchS, res.PredictMS, res.PredictOneMS, res.ImageAUROC)
	}
	return nil
}

// evalOn fits in on the training images and predicts the test images,
// batched and one at a time.
func evalOn(in *inspector.Inspector, train []string, test []image.Image, labels []bool) (EvalResult, []float32, error) {
	res := EvalResult{Backend: in.Backend(), TrainImages: len(train), TestImages: len(test)}
	t0 := time.Now()
	rep, err := in.Fit(patchcore.ImageFiles(train, imageprep.MaxPixels), patchcore.Default(), nil)
	if err != nil {
		return res, nil, err
	}
	res.FitSeconds = time.Since(t0).Seconds()
	res.BackboneS, res.EmbedS = rep.Timings.Backbone.Seconds(), rep.Timings.Embed.Seconds()
	res.CoresetS, res.SearchS = rep.Timings.Coreset.Seconds(), rep.Timings.Search.Seconds()
	res.BankVectors = in.Bank().N
	t0 = time.Now()
	preds, err := in.Predict(test, inspector.PredictOptions{})
	if err != nil {
		return res, nil, err
	}
	res.PredictMS = time.Since(t0).Seconds() * 1e3 / float64(len(test))
	scores := make([]float32, len(preds))
	for i, p := range preds {
		scores[i] = float32(p.Score)
	}
	if res.ImageAUROC, err = metrics.AUROC(scores, labels); err != nil {
		return res, nil, err
	}
	one := make([]float64, min(len(test), 20))
	for i := range one {
		t0 := time.Now()
		if _, err := in.Predict(test[i:i+1], inspector.PredictOptions{}); err != nil {
			return res, nil, err
		}
		one[i] = time.Since(t0).Seconds() * 1e3
	}
	slices.Sort(one)
	res.PredictOneMS = inspector.Median(one)
	return res, scores, nil
}
