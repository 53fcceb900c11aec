// Package inspector is Tessera's application layer: a model opened on a
// device (with the GPU-to-CPU fallback policy), the memory bank it scores
// against, and what a user does with the two: fit a bank, load one
// (rebuilding whatever it names: layers, input size, image preparation,
// model identity), save it, predict with a map and an overlay, and time
// the backbone.
//
// The command line (tools/tessera), the browser worker (wasm/worker) and
// the scoring service are adapters over it: they turn flags, js.Values or
// HTTP requests into its option structs and its results back out.
package inspector

import (
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/backends"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/segment"
)

// Model is where a model's bytes come from: a file (Path), or bytes
// already in memory (Bytes, called Name in banks and messages).
type Model struct {
	Path  string
	Bytes []byte
	Name  string
	// SHA256, when set, is the hash the model must have (a bank's model):
	// another file is refused before it is decoded.
	SHA256 string
}

// Options say how a model is opened and run. The zero value is the
// reference's: "auto" backend, the graph's output layers, ImageNet
// preparation (resize 256, crop 224), pruned search on the CPU, batches
// of 8.
type Options struct {
	// Backend is "auto" (WebGPU on a real GPU, else the CPU; a GPU that
	// fails mid-run is left for the CPU), "webgpu" or "cpu". Empty is auto.
	Backend string
	// Layers are the tensors whose feature maps make the patch vectors:
	// nil for the graph's outputs, or ["auto"] (see backbone.Options).
	Layers []string
	// Prep is how images become tensors; its Crop is the network's input
	// size (0: the size the model declares). The zero value is ImageNet's.
	Prep imageprep.Config
	// Search is how patches find their nearest bank vectors.
	Search patchcore.Search
	// Batch is the number of images per backbone pass, fitting and
	// predicting several (0: 8; a GPU wants 32 or more).
	Batch int
	// Log is told which backend runs, and when the device moves to its
	// fallback. It may be nil.
	Log func(msg string)
}

// withDefaults fills in the zero values.
func (o Options) withDefaults() Options {
	if o.Backend == "" {
		o.Backend = "auto"
	}
	if o.Prep == (imageprep.Config{}) {
		o.Prep = imageprep.ImageNet()
	}
	if o.Batch == 0 {
		o.Batch = patchcore.Default().Batch
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	return o
}

// Inspector is a model on a device and, once fitted or loaded, a bank.
// It is not safe for concurrent use: a front end serving several callers
// queues them (the worker answers one request at a time).
type Inspector struct {
	model Model
	bytes []byte // the model's bytes when it came from memory
	opts  Options
	dev   *compute.Device
	why   string
	x     *patchcore.Extractor
	det   *patchcore.Detector // nil until a bank is fitted or loaded
}

// Open loads the model onto the device opts.Backend names.
func Open(m Model, opts Options) (*Inspector, error) {
	opts = opts.withDefaults()
	if (m.Path == "") == (m.Bytes == nil) {
		return nil, errors.New("inspector: give a model file or the model's bytes, one of the two")
	}
	if _, err := patchcore.ParseSearch(string(opts.Search)); err != nil {
		return nil, err
	}
	if opts.Batch < 1 {
		return nil, fmt.Errorf("inspector: batch of %d images, want at least 1", opts.Batch)
	}
	if err := opts.Prep.Validate(); err != nil {
		return nil, err
	}
	dev, why, err := backends.Open(opts.Backend, opts.Log)
	if err != nil {
		return nil, err
	}
	if why != "" {
		opts.Log(why)
	}
	in := &Inspector{model: m, bytes: m.Bytes, opts: opts, dev: dev, why: why}
	if in.x, err = in.extractor(opts.Layers, opts.Prep); err != nil {
		return nil, err
	}
	opts.Log(dev.Backend().Name())
	return in, nil
}

// OpenForBank loads the model a bank was made with (m, checked against
// the bank's model hash) as the bank says, and the bank.
func OpenForBank(b *bank.Bank, m Model, opts Options) (*Inspector, error) {
	if m.SHA256 == "" {
		m.SHA256 = b.ModelSHA256
	}
	opts.Layers, opts.Prep = b.Layers, b.Prep
	in, err := Open(m, opts)
	if err != nil {
		return nil, err
	}
	if err := in.UseBank(b); err != nil {
		return nil, err
	}
	return in, nil
}

// extractor loads the model with those layers and that preparation, on
// the inspector's device.
func (in *Inspector) extractor(layers []string, prep imageprep.Config) (*patchcore.Extractor, error) {
	h, w := prep.InputSize()
	opts := backbone.Options{Layers: layers, Height: h, Width: w}
	if in.bytes == nil {
		return patchcore.LoadExtractorFor(in.model.Path, in.model.SHA256, opts, prep, in.dev)
	}
	x, err := patchcore.NewExtractor(in.bytes, in.model.Name, opts, prep, in.dev)
	if err != nil {
		return nil, err
	}
	if in.model.SHA256 != "" && x.ModelSHA256 != in.model.SHA256 {
		return nil, fmt.Errorf("inspector: model %s has sha256 %.12s, want %.12s", in.model.Name, x.ModelSHA256, in.model.SHA256)
	}
	return x, nil
}

// Info describes the opened model.
type Info struct {
	Model  string // the model's name
	SHA256 string
	// Backend is the backend that runs now; Why says why it is not the
	// one asked for ("auto" found no GPU), if it is not.
	Backend, Why string
	Layers       []string
	// Input is the network's input: channels, height, width.
	Input  [3]int
	GFLOPs float64 // per image
}

// Info describes the model and where it runs.
func (in *Inspector) Info() Info {
	m := in.x.Exec.Model()
	c, h, w := m.InputShape()
	return Info{
		Model: in.x.ModelName, SHA256: in.x.ModelSHA256,
		Backend: in.dev.Backend().Name(), Why: in.why,
		Layers: m.Layers(), Input: [3]int{c, h, w}, GFLOPs: m.FLOPs() / 1e9,
	}
}

// Backend is the name of the backend running now.
func (in *Inspector) Backend() string { return in.dev.Backend().Name() }

// Extractor is the model ready to run, for front ends that run the
// backbone alone (tessera embed).
func (in *Inspector) Extractor() *patchcore.Extractor { return in.x }

// Detector is the detector on the current bank, nil before one is fitted
// or loaded; its Timings and SearchStats say where prediction time went.
func (in *Inspector) Detector() *patchcore.Detector { return in.det }

// Bank is the current bank, nil before one is fitted or loaded.
func (in *Inspector) Bank() *bank.Bank {
	if in.det == nil {
		return nil
	}
	return in.det.Bank()
}

// UseBank makes b the bank to score against. A bank made with other
// layers or another input size gets the model loaded again as it says;
// a bank of another model is refused. Nothing changes when b is refused.
func (in *Inspector) UseBank(b *bank.Bank) error {
	x, err := in.extractorFor(b)
	if err != nil {
		return err
	}
	det, err := in.detector(x, b)
	if err != nil {
		return err
	}
	in.x, in.det = x, det
	return nil
}

// extractorFor is the extractor bank b was made with: the current one
// with b's preparation, or the model loaded again for b's layers and
// input size.
func (in *Inspector) extractorFor(b *bank.Bank) (*patchcore.Extractor, error) {
	m := in.x.Exec.Model()
	_, h, w := m.InputShape()
	bh, bw := b.Prep.InputSize() // 0 keeps the model's own size, which the current one has
	sameNet := slices.Equal(m.Layers(), b.Layers) && (bh == 0 || h == bh && w == bw)
	// A bank of another model is refused by NewDetector: no reload helps.
	if b.ModelSHA256 != in.x.ModelSHA256 || sameNet {
		x := *in.x
		x.Prep = b.Prep
		return &x, nil
	}
	x, err := in.extractor(b.Layers, b.Prep)
	if err != nil {
		return nil, fmt.Errorf("inspector: loading the model for the bank's layers %v and input size %dx%d: %w", b.Layers, bw, bh, err)
	}
	return x, nil
}

// detector scores against b with extractor x and the inspector's
// search and batch.
func (in *Inspector) detector(x *patchcore.Extractor, b *bank.Bank) (*patchcore.Detector, error) {
	det, err := patchcore.NewDetector(x, b)
	if err != nil {
		return nil, err
	}
	if err := det.SetSearch(in.opts.Search); err != nil {
		return nil, err
	}
	return det, det.SetBatch(in.opts.Batch)
}

// LoadBank reads a bank file and uses it (see UseBank).
func (in *Inspector) LoadBank(path string) error {
	b, err := bank.ReadFile(path)
	if err != nil {
		return err
	}
	return in.UseBank(b)
}

// DecodeBank decodes a bank file's bytes and uses it (see UseBank).
func (in *Inspector) DecodeBank(data []byte) error {
	b, err := bank.Decode(data)
	if err != nil {
		return err
	}
	return in.UseBank(b)
}

// SaveBank writes the current bank to path (atomically: a failed write
// leaves what was there).
func (in *Inspector) SaveBank(path string) error {
	if in.det == nil {
		return errors.New("inspector: no memory bank to save")
	}
	return in.det.Bank().WriteFile(path)
}

// EncodeBank is the current bank's file bytes.
func (in *Inspector) EncodeBank() ([]byte, error) {
	if in.det == nil {
		return nil, errors.New("inspector: no memory bank to save")
	}
	return in.det.Bank().Encode()
}

// SetThreshold replaces the bank's decision threshold by one set by hand.
func (in *Inspector) SetThreshold(t float64) error {
	if in.det == nil {
		return errors.New("inspector: no memory bank: fit or load one first")
	}
	if !(t > 0) || t > 1e30 {
		return fmt.Errorf("inspector: threshold %g is not a positive, finite score", t)
	}
	b := in.det.Bank()
	b.Threshold, b.ThresholdRule = t, fmt.Sprintf("set by hand to %g", t)
	return nil
}

// Prediction is one image's verdict, with its anomaly map and, when asked
// for, the map laid over the prepared image.
type Prediction struct {
	*patchcore.Result
	Overlay *image.RGBA
}

// PredictOptions say what a prediction carries besides its score.
type PredictOptions struct {
	// Overlay lays the anomaly map over the prepared image, on the colour
	// scale of segment.HotAt (hot from the threshold up).
	Overlay bool
}

// Predict scores images against the bank, opts.Batch at a time through
// the backbone.
func (in *Inspector) Predict(imgs []image.Image, opts PredictOptions) ([]Prediction, error) {
	if in.det == nil {
		return nil, errors.New("inspector: no memory bank: fit or load one first")
	}
	rs, err := in.det.Predict(imgs)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(rs))
	for i, r := range rs {
		out[i].Result = r
		if opts.Overlay {
			out[i].Overlay = Overlay(in.det.Bank().Prep.Canvas(imgs[i]), r)
		}
	}
	return out, nil
}

// Overlay lays r's anomaly map over the image it lies on (the bank's
// imageprep.Config.Canvas), hot from r's threshold up: the one colour
// scale of every front end.
func Overlay(prepared *image.RGBA, r *patchcore.Result) *image.RGBA {
	return segment.Overlay(prepared, r.Map, 0, segment.HotAt(r.Threshold, r.Map))
}

// Close releases the device's memory, where the backend holds any.
func (in *Inspector) Close() {
	if c, ok := in.dev.Backend().(interface{ Close() }); ok {
		c.Close()
	}
}

// Failovers counts the device failures the inspector moved past (to the
// CPU, under "auto").
func (in *Inspector) Failovers() int { return in.dev.Generation() }
