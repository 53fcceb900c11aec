package bank

import (
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore/coreset"
	"github.com/tessera/tessera/core/patchcore/embed"
)

// fileHeader is the header as the file spells it (format versions 1 to
// 3), a struct of its own: renaming a field of Header, or of a
// configuration type it holds, cannot change the format. Field order is
// the file's. testdata/v1.tbank is a version-1 file that must keep
// decoding, and re-encoding to the same bytes.
type fileHeader struct {
	ModelSHA256   string      `json:"model_sha256"`
	ModelName     string      `json:"model_name"`
	Layers        []string    `json:"layers"`
	LayerShapes   [][]int     `json:"layer_shapes"`
	Prep          filePrep    `json:"preprocessing"`
	Embed         fileEmbed   `json:"embedding"`
	Coreset       fileCoreset `json:"coreset"`
	GridH         int         `json:"grid_h"`
	GridW         int         `json:"grid_w"`
	K             int         `json:"k"`
	Sigma         float64     `json:"sigma"`
	Threshold     float64     `json:"threshold"`
	ThresholdRule string      `json:"threshold_rule"`
	HoldoutScores []float64   `json:"holdout_scores,omitempty"`
	TrainImages   int         `json:"train_images"`
	TrainPatches  int         `json:"train_patches"`
	N             int         `json:"n"`
	D             int         `json:"d"`
	Precision     string      `json:"precision,omitempty"` // version 2
	Created       string      `json:"created"`
}

type filePrep struct {
	Resize  int        `json:"resize"`
	Crop    int        `json:"crop"`
	Fit     string     `json:"fit,omitempty"`     // version 3
	Width   int        `json:"width,omitempty"`   // version 3
	Height  int        `json:"height,omitempty"`  // version 3
	Overlap int        `json:"overlap,omitempty"` // version 3
	Mean    [3]float32 `json:"mean"`
	Std     [3]float32 `json:"std"`
}

type fileEmbed struct {
	PatchSize   int `json:"patch_size"`
	PretrainDim int `json:"pretrain_dim"`
	TargetDim   int `json:"target_dim"`
}

type fileCoreset struct {
	Fraction  float64 `json:"fraction"`
	ProjectTo int     `json:"project_to"`
	Starts    int     `json:"starts"`
	Seed      uint64  `json:"seed"`
}

func toFile(h *Header) fileHeader {
	return fileHeader{
		ModelSHA256: h.ModelSHA256, ModelName: h.ModelName, Layers: h.Layers, LayerShapes: h.LayerShapes,
		Prep:    filePrep{Resize: h.Prep.Resize, Crop: h.Prep.Crop, Fit: h.Prep.Fit, Width: h.Prep.Width, Height: h.Prep.Height, Overlap: h.Prep.Overlap, Mean: h.Prep.Mean, Std: h.Prep.Std},
		Embed:   fileEmbed{PatchSize: h.Embed.PatchSize, PretrainDim: h.Embed.PretrainDim, TargetDim: h.Embed.TargetDim},
		Coreset: fileCoreset{Fraction: h.Coreset.Fraction, ProjectTo: h.Coreset.ProjectTo, Starts: h.Coreset.Starts, Seed: h.Coreset.Seed},
		GridH:   h.GridH, GridW: h.GridW, K: h.K, Sigma: h.Sigma, Threshold: h.Threshold,
		ThresholdRule: h.ThresholdRule, HoldoutScores: h.HoldoutScores,
		TrainImages: h.TrainImages, TrainPatches: h.TrainPatches, N: h.N, D: h.D,
		Precision: h.Precision, Created: h.Created,
	}
}

func (f *fileHeader) header() Header {
	return Header{
		ModelSHA256: f.ModelSHA256, ModelName: f.ModelName, Layers: f.Layers, LayerShapes: f.LayerShapes,
		Prep:    imageprep.Config{Resize: f.Prep.Resize, Crop: f.Prep.Crop, Fit: f.Prep.Fit, Width: f.Prep.Width, Height: f.Prep.Height, Overlap: f.Prep.Overlap, Mean: f.Prep.Mean, Std: f.Prep.Std},
		Embed:   embed.Config{PatchSize: f.Embed.PatchSize, PretrainDim: f.Embed.PretrainDim, TargetDim: f.Embed.TargetDim},
		Coreset: coreset.Config{Fraction: f.Coreset.Fraction, ProjectTo: f.Coreset.ProjectTo, Starts: f.Coreset.Starts, Seed: f.Coreset.Seed},
		GridH:   f.GridH, GridW: f.GridW, K: f.K, Sigma: f.Sigma, Threshold: f.Threshold,
		ThresholdRule: f.ThresholdRule, HoldoutScores: f.HoldoutScores,
		TrainImages: f.TrainImages, TrainPatches: f.TrainPatches, N: f.N, D: f.D,
		Precision: f.Precision, Created: f.Created,
	}
}
