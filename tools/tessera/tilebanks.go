package main

import (
	"errors"
	"fmt"
	"image"

	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
)

// positionBanks are one bank per tile position, as anomalib's tiled
// ensemble has: eval builds them (--tile-banks position) to measure them
// against the one bank of all tiles. They are not saved; the tool's
// banks are the one-bank kind.
type positionBanks struct {
	dets []*patchcore.Detector
}

// fitPositionBanks fits one bank per tile position on the training
// images (held out as Fit holds them out), then sets every bank's
// threshold from the held-out images' scores. All images must have one
// size, so that tile i is at one place in every image.
func fitPositionBanks(in *inspector.Inspector, images []patchcore.Image, cfg patchcore.Config) (*positionBanks, *patchcore.FitReport, error) {
	rep := &patchcore.FitReport{}
	x := in.Extractor()
	trainIdx, holdIdx := patchcore.HoldoutSplit(len(images), cfg.Holdout)
	if len(holdIdx) == 0 {
		return nil, rep, errors.New("tile banks: no image held out for the threshold")
	}
	var perTile [][]float32
	var size image.Point
	count, gh, gw := 0, 0, 0
	for _, i := range trainIdx {
		img, err := images[i].Load()
		if err != nil {
			rep.Failures = append(rep.Failures, patchcore.Failure{Name: images[i].Name, Err: err})
			continue
		}
		if count > 0 && img.Bounds().Size() != size {
			return nil, rep, fmt.Errorf("tile banks: %s is %v, the others %v: one bank a tile position needs images of one size", images[i].Name, img.Bounds().Size(), size)
		}
		size = img.Bounds().Size()
		ps, h, w, err := x.PatchVectors([]image.Image{img}, cfg.Embed, &rep.Timings)
		if err != nil {
			return nil, rep, err
		}
		if perTile == nil {
			perTile = make([][]float32, len(ps))
		}
		for j, p := range ps {
			perTile[j] = append(perTile[j], p...)
		}
		count, gh, gw = count+1, h, w
	}
	if count == 0 {
		return nil, rep, errors.New("tile banks: no training image could be read")
	}
	pb := &positionBanks{}
	for j := range perTile {
		f := &patchcore.Features{Vectors: perTile[j], Images: count, GridH: gh, GridW: gw}
		b, err := patchcore.NewBank(x, f, cfg, &rep.Timings, nil)
		if err != nil {
			return nil, rep, err
		}
		perTile[j] = nil
		d, err := patchcore.NewDetector(x, b)
		if err == nil {
			err = d.SetSearch(cfg.Search)
		}
		if err != nil {
			return nil, rep, err
		}
		pb.dets = append(pb.dets, d)
	}
	// The held-out scoring's stages, counted as the one bank's fit counts
	// them: backbone and embedding, and the search apart.
	before := pb.timings()
	var scores []float64
	for _, i := range holdIdx {
		img, err := images[i].Load()
		if err != nil {
			rep.Failures = append(rep.Failures, patchcore.Failure{Name: images[i].Name, Err: err})
			continue
		}
		r, err := pb.predict(img)
		if err != nil {
			return nil, rep, err
		}
		scores = append(scores, r.Score)
	}
	after := pb.timings()
	rep.Timings.Backbone += after.Backbone - before.Backbone
	rep.Timings.Embed += after.Embed - before.Embed
	rep.Timings.Search += after.Search - before.Search
	for _, d := range pb.dets {
		if err := patchcore.SetThreshold(d.Bank(), scores, cfg); err != nil {
			return nil, rep, err
		}
	}
	return pb, rep, nil
}

// predict scores an image, each tile against its position's bank.
func (pb *positionBanks) predict(img image.Image) (*patchcore.Result, error) {
	return pb.dets[0].ScoreTiles(img, func(i int) *patchcore.Detector {
		if i < len(pb.dets) {
			return pb.dets[i]
		}
		return nil
	})
}

// size is the banks' vectors, all together.
func (pb *positionBanks) size() (n, patches int) {
	for _, d := range pb.dets {
		n += d.Bank().N
		patches += d.Bank().TrainPatches
	}
	return n, patches
}

// timings are the banks' prediction timings, summed.
func (pb *positionBanks) timings() patchcore.Timings {
	var t patchcore.Timings
	for _, d := range pb.dets {
		dt := d.Timings()
		t.Backbone += dt.Backbone
		t.Embed += dt.Embed
		t.Search += dt.Search
	}
	return t
}
