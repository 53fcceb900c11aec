// Package protocol is the browser worker's message protocol, typed once:
// each request site/tessera.js posts to the engine (wasm/worker) and each
// reply it gets back is a struct here, its fields named by their js tags.
// Ops lists them by op name; a test checks site/tessera.js against it.
//
// A message is {id, op, args} with args the op's request. The worker
// answers with an Envelope, after any number of {id, progress} messages.
// A js tag's option "transfer" marks a typed array whose buffer moves to
// the receiver rather than being copied.
package protocol

// Envelope is the worker's answer to a request.
type Envelope struct {
	ID     int    `js:"id"`
	OK     bool   `js:"ok"`
	Result any    `js:"result"`
	Error  string `js:"error"`
	// Backend runs the model now, once one is loaded; Fallback says why it
	// is not the one asked for, if it is not.
	Backend  string `js:"backend"`
	Fallback string `js:"fallback"`
	// MemoryBytes is the engine's wasm memory.
	MemoryBytes int `js:"memoryBytes"`
}

// ProgressMessage tells how far a long request has come.
type ProgressMessage struct {
	ID       int      `js:"id"`
	Progress Progress `js:"progress"`
}

// Progress is a stage ("backbone", "coreset", "threshold") and its count.
type Progress struct {
	Stage string `js:"stage"`
	Done  int    `js:"done"`
	Total int    `js:"total"`
}

// Init loads a model.
type Init struct {
	Model   []byte `js:"model"`
	Name    string `js:"name"`
	Backend string `js:"backend"` // auto (default), webgpu, cpu
	Search  string `js:"search"`  // auto (default), exact, brute
}

// InitReply describes the model loaded.
type InitReply struct {
	Backend  string   `js:"backend"`
	Fallback string   `js:"fallback"`
	Layers   []string `js:"layers"`
	Input    []int    `js:"input"` // channels, height, width
	GFLOPs   float64  `js:"gflops"`
}

// Image is an image file's bytes (PNG, JPEG, BMP, TIFF or WebP, decoded by Go exactly as
// natively) or straight RGBA pixels (ImageData).
type Image struct {
	Name   string  `js:"name"`
	Bytes  []byte  `js:"bytes"`
	Pixels *Pixels `js:"pixels"`
}

// Pixels are width x height straight RGBA pixels.
type Pixels struct {
	Width  int    `js:"width"`
	Height int    `js:"height"`
	Data   []byte `js:"data"`
}

// FitOptions are the fit settings the JS API takes; an absent one keeps
// the reference's default.
type FitOptions struct {
	Coreset       *float64 `js:"coreset"`
	K             *int     `js:"k"`
	Dim           *int     `js:"dim"`
	Holdout       *float64 `js:"holdout"`
	Quantile      *float64 `js:"quantile"`
	Threshold     *float64 `js:"threshold"`
	BankPrecision *string  `js:"bankPrecision"` // f32 (default) or f16
	Seed          *int     `js:"seed"`
}

// Fit builds a bank on one engine.
type Fit struct {
	Images  []Image    `js:"images"`
	Options FitOptions `js:"options"`
}

// BankSummary says what a bank holds.
type BankSummary struct {
	BankSize      int     `js:"bankSize"`
	TrainImages   int     `js:"trainImages"`
	TrainPatches  int     `js:"trainPatches"`
	Threshold     float64 `js:"threshold"`
	ThresholdRule string  `js:"thresholdRule"`
}

// Timings are a fit's stage times in milliseconds.
type Timings struct {
	BackboneMS float64 `js:"backboneMs"`
	EmbedMS    float64 `js:"embedMs"`
	CoresetMS  float64 `js:"coresetMs"`
	SearchMS   float64 `js:"searchMs"`
}

// FitReply is the bank made, with the images skipped and the time taken.
type FitReply struct {
	BankSummary
	Failures []string `js:"failures"`
	MS       float64  `js:"ms"`
	Timings  Timings  `js:"timings"`
}

// Plan asks which of count images a fit keeps for the bank and which it
// holds out for the threshold.
type Plan struct {
	Count   int        `js:"count"`
	Options FitOptions `js:"options"`
}

// PlanReply lists image indices.
type PlanReply struct {
	Train []int `js:"train"`
	Hold  []int `js:"hold"`
}

// Embed runs a share of the training images through the backbone.
type Embed struct {
	Images  []Image    `js:"images"`
	Options FitOptions `js:"options"`
}

// Features are a share's patch vectors, in image order.
type Features struct {
	Vectors []float32 `js:"vectors,transfer"`
	Images  int       `js:"images"`
	GridH   int       `js:"gridH"`
	GridW   int       `js:"gridW"`
}

// EmbedReply is a share's features with its skipped images and times.
type EmbedReply struct {
	Features
	Failures []string `js:"failures"`
	Timings  Timings  `js:"timings"`
}

// BankFromFeatures makes the bank of every share's features, in image
// order.
type BankFromFeatures struct {
	Options FitOptions    `js:"options"`
	Parts   []FeaturePart `js:"parts"`
}

// FeaturePart is one share's Features as the bank's engine receives them:
// the vectors stay in JavaScript until copied into place, so that a fit's
// gigabyte of patch vectors is not held twice.
type FeaturePart struct {
	Vectors Float32Array `js:"vectors"`
	Images  int          `js:"images"`
	GridH   int          `js:"gridH"`
	GridW   int          `js:"gridW"`
}

// Float32Array is a Float32Array's length, with Read to copy its values
// into dst (len(dst) == Len); the worker's decoder sets both.
type Float32Array struct {
	Len  int
	Read func(dst []float32)
}

// BankFromFeaturesReply is the bank's file bytes, for the other engines.
type BankFromFeaturesReply struct {
	Bank    []byte  `js:"bank,transfer"`
	Timings Timings `js:"timings"`
}

// ScoreHeldOut scores a share of the held-out images.
type ScoreHeldOut struct {
	Images  []Image    `js:"images"`
	Options FitOptions `js:"options"`
}

// ScoreHeldOutReply is their scores, in order.
type ScoreHeldOutReply struct {
	Scores   []float64 `js:"scores"`
	Failures []string  `js:"failures"`
	Timings  Timings   `js:"timings"`
}

// SetThreshold sets the threshold from all held-out scores, in image
// order.
type SetThreshold struct {
	Scores  []float64  `js:"scores"`
	Options FitOptions `js:"options"`
}

// Predict scores one image.
type Predict struct {
	Image Image `js:"image"`
}

// Map is a float32 anomaly map.
type Map struct {
	Width  int       `js:"width"`
	Height int       `js:"height"`
	Data   []float32 `js:"data,transfer"`
}

// RGBA is straight RGBA pixels, as ImageData holds them.
type RGBA struct {
	Width  int    `js:"width"`
	Height int    `js:"height"`
	Data   []byte `js:"data,transfer"`
}

// PredictReply is the verdict with its map and overlay.
type PredictReply struct {
	Score       float64 `js:"score"`
	Threshold   float64 `js:"threshold"`
	IsAnomalous bool    `js:"isAnomalous"`
	Map         Map     `js:"map"`
	Overlay     RGBA    `js:"overlay"`
	MS          float64 `js:"ms"`
}

// SaveBank asks for the bank's file bytes; the reply is a Uint8Array.
type SaveBank struct{}

// LoadBank makes a detector from a bank file's bytes, loading the model
// again for the bank's layers and input size where they differ.
type LoadBank struct {
	Bytes []byte `js:"bytes"`
}

// LoadBankReply describes the bank loaded.
type LoadBankReply struct {
	BankSize    int     `js:"bankSize"`
	TrainImages int     `js:"trainImages"`
	Threshold   float64 `js:"threshold"`
	Model       string  `js:"model"`
	Created     string  `js:"created"`
}

// BenchBackbone times batch-1 forward passes.
type BenchBackbone struct {
	Runs int `js:"runs"`
}

// BenchBackboneReply is the median time of a pass.
type BenchBackboneReply struct {
	MedianMS float64 `js:"medianMs"`
	GFLOPs   float64 `js:"gflops"`
	Runs     int     `js:"runs"`
}

// Op is one request kind: a zero request and a zero reply of its types.
type Op struct {
	Request, Reply any
}

// Ops are the requests the worker answers, by op name.
func Ops() map[string]Op {
	return map[string]Op{
		"init":             {Init{}, InitReply{}},
		"fit":              {Fit{}, FitReply{}},
		"predict":          {Predict{}, PredictReply{}},
		"saveBank":         {SaveBank{}, []byte(nil)},
		"loadBank":         {LoadBank{}, LoadBankReply{}},
		"benchBackbone":    {BenchBackbone{}, BenchBackboneReply{}},
		"plan":             {Plan{}, PlanReply{}},
		"embed":            {Embed{}, EmbedReply{}},
		"bankFromFeatures": {BankFromFeatures{}, BankFromFeaturesReply{}},
		"scoreHeldOut":     {ScoreHeldOut{}, ScoreHeldOutReply{}},
		"setThreshold":     {SetThreshold{}, BankSummary{}},
	}
}
