package inspector

import (
	"errors"

	"github.com/tessera/tessera/core/patchcore"
)

// Fit builds a bank from defect-free images (patchcore.Fit) and makes it
// the one to score against. The report is never nil.
func (in *Inspector) Fit(images []patchcore.Image, cfg patchcore.Config, progress patchcore.Progress) (*patchcore.FitReport, error) {
	cfg.Search, cfg.Batch = in.opts.Search, in.opts.Batch
	b, rep, err := patchcore.Fit(in.x, images, cfg, progress)
	if err != nil {
		return rep, err
	}
	// The detector that set the threshold has its search index laid out
	// already; building another costs seconds in wasm.
	det := rep.Detector
	if det == nil {
		if det, err = in.detector(in.x, b); err != nil {
			return rep, err
		}
	} else if err := det.SetBatch(in.opts.Batch); err != nil {
		return rep, err
	}
	in.det = det
	return rep, nil
}

// A fit spread over several inspectors (the browser's worker pool) runs
// Fit's steps itself: patchcore.Plan, Embed on each share of the training
// images, BuildBank on one, UseBank of its bank on the others,
// ScoreHeldOut on each share of the held-out images, and ThresholdFrom
// with all the scores on every one.

// Part is what Embed or ScoreHeldOut did with a share of the images.
type Part struct {
	Timings  patchcore.Timings
	Failures []patchcore.Failure
}

// Embed runs a share of the training images through the backbone and the
// embedding.
func (in *Inspector) Embed(images []patchcore.Image, cfg patchcore.Config, progress func(done int)) (*patchcore.Features, Part, error) {
	var p Part
	if err := cfg.Validate(); err != nil {
		return nil, p, err
	}
	f, err := in.x.Embed(images, cfg, &p.Timings, &p.Failures, progress)
	return f, p, err
}

// BuildBank chooses the bank from all the training images' features, in
// image order, and makes it the one to score against, with no threshold
// yet.
func (in *Inspector) BuildBank(f *patchcore.Features, cfg patchcore.Config, progress patchcore.Progress) (patchcore.Timings, error) {
	var t patchcore.Timings
	if err := cfg.Validate(); err != nil {
		return t, err
	}
	b, err := patchcore.NewBank(in.x, f, cfg, &t, progress)
	if err != nil {
		return t, err
	}
	det, err := in.detector(in.x, b)
	if err != nil {
		return t, err
	}
	in.det = det
	return t, nil
}

// ScoreHeldOut scores a share of the held-out images against the bank;
// the part's Search timing is this call's alone.
func (in *Inspector) ScoreHeldOut(images []patchcore.Image, cfg patchcore.Config, progress func(done int)) ([]float64, Part, error) {
	var p Part
	if in.det == nil {
		return nil, p, errors.New("inspector: no memory bank: fit or load one first")
	}
	before := in.det.Timings().Search
	scores, err := in.det.ScoreHeldOut(images, cfg, &p.Timings, &p.Failures, progress)
	p.Timings.Search = in.det.Timings().Search - before
	return scores, p, err
}

// ThresholdFrom sets the bank's threshold from all the held-out scores,
// in image order, as Fit does.
func (in *Inspector) ThresholdFrom(scores []float64, cfg patchcore.Config) error {
	if in.det == nil {
		return errors.New("inspector: no memory bank: fit or load one first")
	}
	return patchcore.SetThreshold(in.det.Bank(), scores, cfg)
}
