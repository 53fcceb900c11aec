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
	"github.com/tessera/tessera/core/internal/panics"
	"github.com/tessera/tessera/core/internal/parallel"
	"image"
	"math"
	"runtime"
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
	// Threshold, when above 0, is the decision threshold set by hand; else
	// it comes from the held-out images, and a fit with none is an error
	// (a threshold of 0 would flag nothing).
	Threshold float64
	// BankPrecision is how the bank's vectors are stored: bank.F32 (or
	// empty) or bank.F16, half the file. The vectors are rounded to it as
	// soon as they are chosen, so the threshold and every score use the
	// values the file will hold.
	BankPrecision string
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
	// Every range is written so that NaN fails it too.
	if c.K < 1 {
		return fmt.Errorf("patchcore: k = %d nearest neighbours, want at least 1", c.K)
	}
	if !(c.Coreset.Fraction > 0 && c.Coreset.Fraction <= 1) {
		return fmt.Errorf("patchcore: coreset fraction %g is not in (0, 1]", c.Coreset.Fraction)
	}
	if _, err := ParseSearch(string(c.Search)); err != nil {
		return err
	}
	if !(c.Holdout >= 0 && c.Holdout < 1) {
		return fmt.Errorf("patchcore: holdout %g is not in [0, 1)", c.Holdout)
	}
	if !(c.Quantile >= 0 && c.Quantile <= 1) {
		return fmt.Errorf("patchcore: quantile %g is not in [0, 1]", c.Quantile)
	}
	if !(c.Sigma >= 0 && c.Sigma <= 256) {
		return fmt.Errorf("patchcore: sigma %g is not in [0, 256]", c.Sigma)
	}
	if c.Batch < 1 {
		return fmt.Errorf("patchcore: batch of %d images, want at least 1", c.Batch)
	}
	if !(c.Threshold >= 0) || math.IsInf(c.Threshold, 0) {
		return fmt.Errorf("patchcore: threshold %g is not a finite, non-negative score", c.Threshold)
	}
	if _, err := bank.ParsePrecision(c.BankPrecision); err != nil {
		return fmt.Errorf("patchcore: %w", err)
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

// ImageFiles are image files, each read (imageprep.OpenMax, at most
// maxPixels) when first needed.
func ImageFiles(paths []string, maxPixels int) []Image {
	out := make([]Image, len(paths))
	for i, p := range paths {
		out[i] = Image{Name: p, Load: func() (image.Image, error) { return imageprep.OpenMax(p, maxPixels) }}
	}
	return out
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
// network input's (an image, or each of its tiles in turn) patch vectors
// ((h*w) x cfg.TargetDim, row-major) and the patch grid: what the bank is
// made of and what is searched in it. The backbone's and the embedding's
// time is added to t when t is not nil.
func (x *Extractor) PatchVectors(imgs []image.Image, cfg embed.Config, t *Timings) ([][]float32, int, int, error) {
	var batch [][]float32
	for _, img := range imgs {
		ts, _, err := x.Prep.Tensors(img)
		if err != nil {
			return nil, 0, 0, err
		}
		batch = append(batch, ts...)
	}
	if t == nil {
		t = &Timings{}
	}
	return x.patches(batch, cfg, t)
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
//
// Fit is HoldoutSplit, Embed, NewBank, ScoreHeldOut and SetThreshold in a
// row; a caller that spreads the images over several engines (the
// browser's worker pool) runs the same steps itself.
// The report is never nil, so that its failures can be read whatever
// happened.
func Fit(x *Extractor, images []Image, cfg Config, progress Progress) (_ *bank.Bank, _ *FitReport, err error) {
	rep := &FitReport{}
	defer func() { panics.Error(recover(), "patchcore: fit", &err) }()
	if err := cfg.Validate(); err != nil {
		return nil, rep, err
	}
	if len(images) == 0 {
		return nil, rep, errors.New("patchcore: no training images")
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	trainIdx, holdIdx := HoldoutSplit(len(images), cfg.Holdout)
	train, hold := pick(images, trainIdx), pick(images, holdIdx)
	f, err := x.Embed(train, cfg, &rep.Timings, &rep.Failures, func(done int) { progress("backbone", done, len(train)) })
	if err != nil {
		return nil, rep, err
	}
	if f.Images == 0 {
		return nil, rep, fmt.Errorf("patchcore: none of the %d training images could be read (first: %v)", len(train), firstFailure(rep.Failures))
	}
	b, err := NewBank(x, f, cfg, &rep.Timings, progress)
	if err != nil {
		return nil, rep, err
	}
	if err := thresholdSource(len(hold), len(images), cfg); err != nil {
		return nil, rep, err
	}
	var scores []float64
	if len(hold) > 0 {
		det, err := NewDetector(x, b)
		if err != nil {
			return nil, rep, err
		}
		if err := det.SetSearch(cfg.Search); err != nil {
			return nil, rep, err
		}
		scores, err = det.ScoreHeldOut(hold, cfg, &rep.Timings, &rep.Failures, func(done int) { progress("threshold", done, len(hold)) })
		if err != nil {
			return nil, rep, err
		}
		for _, h := range hold {
			rep.Holdout = append(rep.Holdout, h.Name)
		}
		rep.Timings.Search += det.timings.Search
		rep.Detector = det
	}
	if err := SetThreshold(b, scores, cfg); err != nil {
		return nil, rep, err
	}
	return b, rep, nil
}

// Features are the patch vectors of training images, in image order: what
// a bank's coreset is chosen from. Under imageprep.FitTile each tile is
// an image here.
type Features struct {
	Vectors      []float32 // one row of Embed.TargetDim values per patch
	Images       int       // images embedded; those that failed to load are not counted
	GridH, GridW int       // the patch grid of every image
}

// Embed runs training images through the backbone and the embedding.
// Images that fail to load are added to fails and skipped; progress is
// told how many images are done.
func (x *Extractor) Embed(images []Image, cfg Config, t *Timings, fails *[]Failure, progress func(done int)) (_ *Features, err error) {
	defer func() { panics.Error(recover(), "patchcore: embed", &err) }()
	f := &Features{}
	err = x.eachBatch(images, cfg, t, fails, func(ps [][]float32, h, w int, _, inputs []int) {
		// Room for every image at once: growing by appends would need up
		// to twice the features' memory, which wasm never gives back.
		// (Tiles: as many an image as the first image has.)
		if f.Vectors == nil && len(ps) > 0 {
			f.Vectors = make([]float32, 0, len(images)*inputs[0]*len(ps[0]))
		}
		for _, p := range ps {
			f.Vectors = append(f.Vectors, p...)
		}
		f.GridH, f.GridW = h, w
		f.Images += len(ps)
	}, progress)
	return f, err
}

// NewBank chooses the coreset of the features' patches (greedy k-center,
// cfg.Coreset) and makes a bank of it, with no threshold yet.
func NewBank(x *Extractor, f *Features, cfg Config, t *Timings, progress Progress) (_ *bank.Bank, err error) {
	defer func() { panics.Error(recover(), "patchcore: coreset", &err) }()
	d := cfg.Embed.TargetDim
	if f.Images == 0 {
		return nil, errors.New("patchcore: no training image could be read")
	}
	if d <= 0 || len(f.Vectors) == 0 || len(f.Vectors)%d != 0 || f.GridH <= 0 || f.GridW <= 0 ||
		len(f.Vectors)/d != f.Images*f.GridH*f.GridW {
		return nil, fmt.Errorf("patchcore: %d feature values for %d images of %dx%d patches of %d values", len(f.Vectors), f.Images, f.GridH, f.GridW, d)
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	n := len(f.Vectors) / d
	t0 := time.Now()
	idx, err := coreset.Select(f.Vectors, n, d, cfg.Coreset, func(done, total int) { progress("coreset", done, total) })
	if err != nil {
		return nil, err
	}
	t.Coreset += time.Since(t0)
	vecs := make([]float32, len(idx)*d)
	for i, j := range idx {
		copy(vecs[i*d:], f.Vectors[j*d:(j+1)*d])
	}
	prec, err := bank.ParsePrecision(cfg.BankPrecision)
	if err != nil {
		return nil, fmt.Errorf("patchcore: %w", err)
	}
	// An f16 bank is held as halves from here on: half the memory, and the
	// threshold and every score use exactly what its file will hold.
	var half []uint16
	if prec == bank.F16 {
		if half, err = bank.Halves(vecs); err != nil {
			return nil, fmt.Errorf("patchcore: bank precision f16: %w", err)
		}
		vecs = nil
	} else {
		prec = "" // float32 banks keep the version-1 header
	}
	b := &bank.Bank{
		Header: bank.Header{
			ModelSHA256:  x.ModelSHA256,
			ModelName:    x.ModelName,
			Layers:       x.Exec.Model().Layers(),
			Prep:         x.Prep,
			Embed:        cfg.Embed,
			Coreset:      cfg.Coreset,
			GridH:        f.GridH,
			GridW:        f.GridW,
			K:            min(cfg.K, len(idx)),
			Sigma:        cfg.Sigma,
			TrainImages:  f.Images,
			TrainPatches: n,
			N:            len(idx),
			D:            d,
			Precision:    prec,
			Created:      time.Now().UTC().Format(time.RFC3339),
		},
		Vectors: vecs,
		Half:    half,
	}
	for _, l := range b.Layers {
		s := x.Exec.Model().LayerShape(l)
		b.LayerShapes = append(b.LayerShapes, s[1:])
	}
	return b, nil
}

// ScoreHeldOut scores held-out training images against the detector's
// bank, without maps: the scores SetThreshold takes. Images that fail to
// load are added to fails and skipped.
func (d *Detector) ScoreHeldOut(images []Image, cfg Config, t *Timings, fails *[]Failure, progress func(done int)) (_ []float64, err error) {
	defer func() { panics.Error(recover(), "patchcore: threshold scoring", &err) }()
	var scores []float64
	var scoreErr error
	last := -1 // the image the last score is of: its tiles' largest is its score
	err = d.x.eachBatch(images, cfg, t, fails, func(ps [][]float32, _, _ int, owners, _ []int) {
		rs, err := d.score(ps, false)
		if err != nil {
			scoreErr = err
			return
		}
		for i, r := range rs {
			if owners[i] == last {
				scores[len(scores)-1] = max(scores[len(scores)-1], r.Score)
				continue
			}
			scores = append(scores, r.Score)
			last = owners[i]
		}
	}, progress)
	if err == nil {
		err = scoreErr
	}
	return scores, err
}

// SetThreshold sets the bank's threshold: cfg.Threshold when it is set by
// hand, else the cfg.Quantile of the held-out images' scores. With
// neither there is no threshold to set, which is an error.
func SetThreshold(b *bank.Bank, scores []float64, cfg Config) error {
	b.HoldoutScores = append([]float64(nil), scores...)
	switch {
	case cfg.Threshold > 0:
		b.Threshold = cfg.Threshold
		b.ThresholdRule = fmt.Sprintf("set by hand to %g", cfg.Threshold)
	case len(scores) > 0:
		b.Threshold = Quantile(scores, cfg.Quantile)
		b.ThresholdRule = fmt.Sprintf("quantile %g of the scores of %d held-out training images", cfg.Quantile, len(scores))
	default:
		return errors.New("patchcore: no held-out image could be scored to set the threshold: set one by hand")
	}
	return nil
}

// eachBatch loads, prepares and embeds images in batches of network
// inputs (an image's tiles under imageprep.FitTile are several), recording
// images that fail to load and carrying on with the rest. use is told
// each input's image (its index in images) and how many inputs that
// image has.
func (x *Extractor) eachBatch(images []Image, cfg Config, t *Timings, fails *[]Failure, use func(ps [][]float32, h, w int, owners, inputs []int), done func(int)) error {
	batch := max(cfg.Batch, 1)
	var pending [][]float32
	var owners, inputs []int
	count := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		ps, h, w, err := x.patches(pending, cfg.Embed, t)
		if err != nil {
			return err
		}
		use(ps, h, w, owners, inputs)
		pending, owners, inputs = pending[:0], owners[:0], inputs[:0]
		return nil
	}
	for start := 0; start < len(images); start += batch {
		chunk := images[start:min(start+batch, len(images))]
		tensors, errs := x.prepare(chunk)
		for i, im := range chunk {
			count++
			if errs[i] != nil {
				*fails = append(*fails, Failure{im.Name, errs[i]})
				done(count)
				continue
			}
			for _, tn := range tensors[i] {
				pending = append(pending, tn)
				owners = append(owners, start+i)
				inputs = append(inputs, len(tensors[i]))
				if len(pending) == batch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			done(count)
		}
	}
	return flush()
}

// prepare loads and prepares images side by side, one goroutine per core:
// decoding and resizing took a sixth of a native fit on one.
func (x *Extractor) prepare(images []Image) ([][][]float32, []error) {
	tensors, errs := make([][][]float32, len(images)), make([]error, len(images))
	parallel.For(runtime.GOMAXPROCS(0), len(images), 1, func(_, i int) {
		img, err := images[i].Load()
		if err == nil {
			tensors[i], _, err = x.Prep.Tensors(img)
		}
		errs[i] = err
	})
	return tensors, errs
}

func firstFailure(f []Failure) error {
	if len(f) == 0 {
		return errors.New("none")
	}
	return f[0]
}

// Plan says which of n training images a fit keeps in the bank and which
// it holds out for the threshold (HoldoutSplit), for a caller that runs
// Fit's steps itself: no images, or none held out and no threshold set by
// hand, is an error, as in Fit.
func Plan(n int, cfg Config) (train, hold []int, err error) {
	if n <= 0 {
		return nil, nil, errors.New("patchcore: no training images")
	}
	train, hold = HoldoutSplit(n, cfg.Holdout)
	if err := thresholdSource(len(hold), n, cfg); err != nil {
		return nil, nil, err
	}
	return train, hold, nil
}

// thresholdSource reports a fit that would have no threshold: none of its
// n images held out, and none set by hand.
func thresholdSource(held, n int, cfg Config) error {
	if held == 0 && cfg.Threshold == 0 {
		return fmt.Errorf("patchcore: no image is held out to set the threshold (holdout %g of %d images): hold some out, or set a threshold by hand", cfg.Holdout, n)
	}
	return nil
}

// HoldoutSplit says which of n training images Fit keeps in the bank and
// which it holds out for the threshold: every step-th, frac of them (at
// least one when n >= 2; none when frac is 0).
func HoldoutSplit(n int, frac float64) (train, hold []int) {
	if frac <= 0 || n < 2 {
		for i := 0; i < n; i++ {
			train = append(train, i)
		}
		return train, nil
	}
	nh := max(1, int(math.Round(float64(n)*frac)))
	step := n / nh
	for i := 0; i < n; i++ {
		if i%step == step-1 && len(hold) < nh {
			hold = append(hold, i)
		} else {
			train = append(train, i)
		}
	}
	return train, hold
}

func pick(images []Image, idx []int) []Image {
	out := make([]Image, len(idx))
	for i, j := range idx {
		out[i] = images[j]
	}
	return out
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
