// Package patchcore is the PatchCore pipeline: it fits a memory bank on
// defect-free images and scores new images against it. The steps live in
// the subpackages, in the order the data flows: embed (feature maps to
// patch vectors), coreset (choosing the bank), bank (the file), segment
// (patch scores to an anomaly map), search (exact pruned nearest
// neighbours; brute force runs on a compute.Backend).
package patchcore

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"
	"time"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/coreset"
	"github.com/tessera/tessera/core/patchcore/embed"
)

// Config is PatchCore's configuration; Default gives the reference's.
type Config struct {
	Embed   embed.Config
	Coreset coreset.Config
	// K nearest bank vectors are averaged into a patch score (1).
	K int
	// Sigma of the Gaussian blur of the anomaly map, in pixels (4).
	Sigma float64
	// Holdout is the fraction of training images kept out of the bank and
	// scored to set the threshold (0.1); see Fit.
	Holdout float64
	// Quantile of the held-out images' scores used as threshold (0.99).
	Quantile float64
	// Batch is the number of images per backbone pass (8).
	Batch int
	// Search is how the held-out images are scored (auto); not stored in
	// the bank, since it does not change the scores.
	Search Search
}

// Default is the reference configuration with a 10% coreset.
func Default() Config {
	return Config{Embed: embed.Default(), Coreset: coreset.Default(), K: 1, Sigma: 4, Holdout: 0.1, Quantile: 0.99, Batch: 8}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if err := c.Embed.Validate(); err != nil {
		return err
	}
	if c.K < 1 {
		return fmt.Errorf("patchcore: k = %d nearest neighbours, want at least 1", c.K)
	}
	if c.Coreset.Fraction <= 0 || c.Coreset.Fraction > 1 {
		return fmt.Errorf("patchcore: coreset fraction %g is not in (0, 1]", c.Coreset.Fraction)
	}
	if _, err := ParseSearch(string(c.Search)); err != nil {
		return err
	}
	if c.Holdout < 0 || c.Holdout >= 1 || c.Quantile < 0 || c.Quantile > 1 {
		return fmt.Errorf("patchcore: holdout %g or quantile %g out of range", c.Holdout, c.Quantile)
	}
	return nil
}

// Extractor is a backbone ready to run, with the identity and image
// preparation a bank records.
type Extractor struct {
	Exec        *backbone.Executor
	Prep        imageprep.Config
	ModelSHA256 string
	ModelName   string
}

// Image is an input image; Load is called once, when the image is needed.
type Image struct {
	Name string
	Load func() (image.Image, error)
}

// Progress is told how far a stage ("backbone", "coreset", "threshold")
// has come.
type Progress func(stage string, done, total int)

// Timings break down where the time went.
type Timings struct {
	Backbone time.Duration `json:"backbone_ns"`
	Embed    time.Duration `json:"embed_ns"`
	Coreset  time.Duration `json:"coreset_ns"`
	Search   time.Duration `json:"search_ns"`
	Images   int           `json:"images"`
}

// Failure is an image that could not be used.
type Failure struct {
	Name string
	Err  error
}

func (f Failure) Error() string { return f.Name + ": " + f.Err.Error() }

// patches runs a batch of prepared images through the backbone and the
// embedding: one (GridH*GridW) x TargetDim matrix per image.
func (x *Extractor) patches(batch [][]float32, cfg embed.Config, t *Timings) ([][]float32, int, int, error) {
	c, h, w := x.Exec.Model().InputShape()
	in := make([]float32, 0, len(batch)*c*h*w)
	for _, b := range batch {
		in = append(in, b...)
	}
	t0 := time.Now()
	feats, err := x.Exec.Run(in, []int{len(batch), c, h, w})
	if err != nil {
		return nil, 0, 0, err
	}
	t1 := time.Now()
	t.Backbone += t1.Sub(t0)
	out := make([][]float32, len(batch))
	var gh, gw int
	for i := range batch {
		layers := make([]embed.Layer, len(feats))
		for j, f := range feats {
			if len(f.Shape) != 4 {
				return nil, 0, 0, fmt.Errorf("patchcore: layer %q has shape %v, want N x C x H x W", f.Name, f.Shape)
			}
			n := f.Shape[1] * f.Shape[2] * f.Shape[3]
			layers[j] = embed.Layer{C: f.Shape[1], H: f.Shape[2], W: f.Shape[3], Data: f.Data[i*n : (i+1)*n]}
		}
		p, err := cfg.Patches(layers)
		if err != nil {
			return nil, 0, 0, err
		}
		out[i] = p
		gh, gw = layers[0].H, layers[0].W
	}
	t.Embed += time.Since(t1)
	t.Images += len(batch)
	return out, gh, gw, nil
}

// PatchVectors prepares images as the extractor does and returns each
// one's patch vectors ((h*w) x cfg.TargetDim, row-major) and the patch
// grid: what the bank is made of and what is searched in it.
func (x *Extractor) PatchVectors(imgs []image.Image, cfg embed.Config) ([][]float32, int, int, error) {
	batch := make([][]float32, len(imgs))
	for i, img := range imgs {
		batch[i] = x.Prep.Tensor(img)
	}
	var t Timings
	return x.patches(batch, cfg, &t)
}

// FitReport says what Fit did besides building the bank.
type FitReport struct {
	Timings  Timings
	Failures []Failure // images skipped because they could not be read
	Holdout  []string  // images scored for the threshold, not in the bank
	// Detector is the detector that scored the held-out images, ready to
	// predict with the new bank, its search index already laid out (nil
	// when no image was held out). Its Timings include that scoring.
	Detector *Detector
}

// Fit builds a memory bank from defect-free images.
//
// The decision threshold is set without any defective image, as a factory
// must: every 1/Holdout-th image (at least one, when there are two or
// more) is kept out of the bank, scored against it, and the Quantile of
// those scores becomes the threshold. Images that fail to load are
// reported in the FitReport and skipped.
func Fit(x *Extractor, images []Image, cfg Config, progress Progress) (*bank.Bank, *FitReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if len(images) == 0 {
		return nil, nil, errors.New("patchcore: no training images")
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	train, hold := splitHoldout(images, cfg.Holdout)
	rep := &FitReport{}
	var all []float32
	var gh, gw int
	nTrain := 0
	err := x.eachBatch(train, cfg, &rep.Timings, &rep.Failures, func(ps [][]float32, h, w int) {
		for _, p := range ps {
			all = append(all, p...)
		}
		gh, gw = h, w
		nTrain += len(ps)
	}, func(done int) { progress("backbone", done, len(train)) })
	if err != nil {
		return nil, rep, err
	}
	if nTrain == 0 {
		return nil, rep, fmt.Errorf("patchcore: none of the %d training images could be read (first: %v)", len(train), firstFailure(rep.Failures))
	}
	d := cfg.Embed.TargetDim
	n := len(all) / d
	t0 := time.Now()
	idx, err := coreset.Select(all, n, d, cfg.Coreset, func(done, total int) { progress("coreset", done, total) })
	if err != nil {
		return nil, rep, err
	}
	rep.Timings.Coreset = time.Since(t0)
	vecs := make([]float32, len(idx)*d)
	for i, j := range idx {
		copy(vecs[i*d:], all[j*d:(j+1)*d])
	}
	all = nil
	b := &bank.Bank{
		Header: bank.Header{
			ModelSHA256:  x.ModelSHA256,
			ModelName:    x.ModelName,
			Layers:       x.Exec.Model().Layers(),
			Prep:         x.Prep,
			Embed:        cfg.Embed,
			Coreset:      cfg.Coreset,
			GridH:        gh,
			GridW:        gw,
			K:            min(cfg.K, len(idx)),
			Sigma:        cfg.Sigma,
			TrainImages:  nTrain,
			TrainPatches: n,
			N:            len(idx),
			D:            d,
			Created:      time.Now().UTC().Format(time.RFC3339),
		},
		Vectors: vecs,
	}
	for _, l := range b.Layers {
		s := x.Exec.Model().LayerShape(l)
		b.LayerShapes = append(b.LayerShapes, s[1:])
	}
	// The threshold: score the held-out images against the new bank.
	b.ThresholdRule = "none: too few training images to hold any out; set a threshold by hand"
	if len(hold) > 0 {
		det, err := NewDetector(x, b)
		if err != nil {
			return nil, rep, err
		}
		if err := det.SetSearch(cfg.Search); err != nil {
			return nil, rep, err
		}
		var scores []float64
		err = x.eachBatch(hold, cfg, &rep.Timings, &rep.Failures, func(ps [][]float32, _, _ int) {
			for _, p := range ps {
				if r, err := det.score(p, false); err == nil {
					scores = append(scores, r.Score)
				}
			}
		}, func(done int) { progress("threshold", done, len(hold)) })
		if err != nil {
			return nil, rep, err
		}
		for _, h := range hold {
			rep.Holdout = append(rep.Holdout, h.Name)
		}
		if len(scores) > 0 {
			b.HoldoutScores = scores
			b.Threshold = Quantile(scores, cfg.Quantile)
			b.ThresholdRule = fmt.Sprintf("quantile %g of the scores of %d held-out training images", cfg.Quantile, len(scores))
		}
		rep.Timings.Search += det.timings.Search
		rep.Detector = det
	}
	return b, rep, nil
}

// eachBatch loads, prepares and embeds images in batches, recording
// images that fail to load and carrying on with the rest.
func (x *Extractor) eachBatch(images []Image, cfg Config, t *Timings, fails *[]Failure, use func([][]float32, int, int), done func(int)) error {
	batch := max(cfg.Batch, 1)
	var pending [][]float32
	count := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		ps, h, w, err := x.patches(pending, cfg.Embed, t)
		if err != nil {
			return err
		}
		use(ps, h, w)
		pending = pending[:0]
		return nil
	}
	for _, im := range images {
		img, err := im.Load()
		count++
		if err != nil {
			*fails = append(*fails, Failure{im.Name, err})
			done(count)
			continue
		}
		pending = append(pending, x.Prep.Tensor(img))
		if len(pending) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
		done(count)
	}
	return flush()
}

func firstFailure(f []Failure) error {
	if len(f) == 0 {
		return errors.New("none")
	}
	return f[0]
}

// splitHoldout keeps every step-th image out for the threshold.
func splitHoldout(images []Image, frac float64) (train, hold []Image) {
	if frac <= 0 || len(images) < 2 {
		return images, nil
	}
	nh := max(1, int(math.Round(float64(len(images))*frac)))
	step := len(images) / nh
	for i, im := range images {
		if i%step == step-1 && len(hold) < nh {
			hold = append(hold, im)
		} else {
			train = append(train, im)
		}
	}
	return train, hold
}

// Quantile is numpy's default (linear) quantile of xs.
func Quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}
