//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"image"
	"math"
	"syscall/js"
	"time"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/wasm/protocol"
)

// engine adapts the protocol's requests to an inspector: one model and,
// once fitted or loaded, one bank.
type engine struct {
	in *inspector.Inspector
	// fallback says why the backend running is not the one asked for.
	fallback string
}

// handle decodes op's request, runs it and returns the reply.
func (e *engine) handle(op string, args js.Value, progress patchcore.Progress) (any, error) {
	switch op {
	case "init":
		return run(args, func(r protocol.Init) (any, error) { return e.init(r) })
	case "fit":
		return run(args, func(r protocol.Fit) (any, error) { return e.fit(r, progress) })
	case "predict":
		return run(args, e.predict)
	case "saveBank":
		return run(args, func(protocol.SaveBank) (any, error) { return e.saveBank() })
	case "loadBank":
		return run(args, e.loadBank)
	case "benchBackbone":
		return run(args, e.benchBackbone)
	// The worker pool's steps of a fit (site/tessera.js runs them).
	case "plan":
		return run(args, e.plan)
	case "embed":
		return run(args, func(r protocol.Embed) (any, error) { return e.embed(r, progress) })
	case "bankFromFeatures":
		return run(args, func(r protocol.BankFromFeatures) (any, error) { return e.bankFromFeatures(r, progress) })
	case "scoreHeldOut":
		return run(args, func(r protocol.ScoreHeldOut) (any, error) { return e.scoreHeldOut(r, progress) })
	case "setThreshold":
		return run(args, e.setThreshold)
	}
	return nil, fmt.Errorf("unknown request %q", op)
}

// run decodes a request of type R and hands it to f.
func run[R any](args js.Value, f func(R) (any, error)) (any, error) {
	var r R
	if err := decode(args, &r); err != nil {
		return nil, err
	}
	return f(r)
}

func (e *engine) init(r protocol.Init) (any, error) {
	if r.Model == nil {
		return nil, errors.New("init: no model bytes")
	}
	search, err := patchcore.ParseSearch(r.Search)
	if err != nil {
		return nil, err
	}
	opened := false
	in, err := inspector.Open(inspector.Model{Bytes: r.Model, Name: r.Name}, inspector.Options{
		Backend: r.Backend, Search: search,
		Log: func(msg string) {
			if !opened {
				return // the backend chosen: InitReply says it
			}
			e.fallback = msg // the device failed and the CPU took over
			js.Global().Get("console").Call("warn", "Tessera: "+msg)
		},
	})
	if err != nil {
		return nil, err
	}
	opened = true
	info := in.Info()
	e.in, e.fallback = in, info.Why
	return protocol.InitReply{
		Backend: info.Backend, Fallback: info.Why, Layers: info.Layers,
		Input: info.Input[:], GFLOPs: info.GFLOPs,
	}, nil
}

// model is the inspector, or an error before a model is loaded.
func (e *engine) model() (*inspector.Inspector, error) {
	if e.in == nil {
		return nil, errors.New("no model loaded")
	}
	return e.in, nil
}

// withBank is the inspector, or an error before a bank is there.
func (e *engine) withBank() (*inspector.Inspector, error) {
	in, err := e.model()
	if err == nil && in.Bank() == nil {
		err = errors.New("no memory bank: fit or load one first")
	}
	return in, err
}

func (e *engine) fit(r protocol.Fit, progress patchcore.Progress) (any, error) {
	in, cfg, err := e.step(r.Options, false)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	rep, err := in.Fit(images(r.Images), cfg, progress)
	if err != nil {
		return nil, err
	}
	return protocol.FitReply{
		BankSummary: summary(in), Failures: failures(rep.Failures),
		MS: ms(time.Since(t0)), Timings: timings(rep.Timings),
	}, nil
}

// images turns image messages into images decoded when first needed;
// each message's bytes go once the image is decoded.
func images(list []protocol.Image) []patchcore.Image {
	out := make([]patchcore.Image, len(list))
	for i := range list {
		m := &list[i]
		out[i] = patchcore.Image{Name: m.Name, Load: func() (image.Image, error) {
			img, err := decodeImage(*m)
			*m = protocol.Image{}
			return img, err
		}}
	}
	return out
}

// config is the fit configuration: the defaults with the options given,
// checked.
func config(o protocol.FitOptions) (patchcore.Config, error) {
	cfg := patchcore.Default()
	if o.Coreset != nil {
		cfg.Coreset.Fraction = *o.Coreset
	}
	if o.K != nil {
		cfg.K = *o.K
	}
	if o.Dim != nil {
		cfg.Embed.PretrainDim, cfg.Embed.TargetDim = *o.Dim, *o.Dim
	}
	if o.Holdout != nil {
		cfg.Holdout = *o.Holdout
	}
	if o.Quantile != nil {
		cfg.Quantile = *o.Quantile
	}
	if o.Threshold != nil {
		cfg.Threshold = *o.Threshold
	}
	if o.BankPrecision != nil {
		cfg.BankPrecision = *o.BankPrecision
	}
	if o.Seed != nil {
		if *o.Seed < 0 {
			return cfg, fmt.Errorf("seed %d, want a whole number of at least 0", *o.Seed)
		}
		cfg.Coreset.Seed = uint64(*o.Seed)
	}
	return cfg, cfg.Validate()
}

// step is the inspector and the checked configuration for a step of a
// fit; withBank says the step needs a bank already.
func (e *engine) step(o protocol.FitOptions, withBank bool) (*inspector.Inspector, patchcore.Config, error) {
	cfg, err := config(o)
	if err != nil {
		return nil, cfg, err
	}
	in, err := e.model()
	if err == nil && withBank {
		in, err = e.withBank()
	}
	return in, cfg, err
}

func summary(in *inspector.Inspector) protocol.BankSummary {
	b := in.Bank()
	return protocol.BankSummary{
		BankSize: b.N, TrainImages: b.TrainImages, TrainPatches: b.TrainPatches,
		Threshold: b.Threshold, ThresholdRule: b.ThresholdRule,
	}
}

func failures(fs []patchcore.Failure) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Error())
	}
	return out
}

func timings(t patchcore.Timings) protocol.Timings {
	return protocol.Timings{BackboneMS: ms(t.Backbone), EmbedMS: ms(t.Embed), CoresetMS: ms(t.Coreset), SearchMS: ms(t.Search)}
}

// plan says which of count images a fit keeps in the bank and which it
// holds out for the threshold, as Fit would.
func (e *engine) plan(r protocol.Plan) (any, error) {
	cfg, err := config(r.Options)
	if err != nil {
		return nil, err
	}
	train, hold, err := patchcore.Plan(r.Count, cfg)
	if err != nil {
		return nil, err
	}
	return protocol.PlanReply{Train: train, Hold: hold}, nil
}

// embed runs a share of the training images through the backbone and
// the embedding; the patch vectors go back transferred.
func (e *engine) embed(r protocol.Embed, progress patchcore.Progress) (any, error) {
	in, cfg, err := e.step(r.Options, false)
	if err != nil {
		return nil, err
	}
	n := len(r.Images)
	f, part, err := in.Embed(images(r.Images), cfg, func(done int) { progress("backbone", done, n) })
	if err != nil {
		return nil, err
	}
	return protocol.EmbedReply{
		Features: protocol.Features{Vectors: f.Vectors, Images: f.Images, GridH: f.GridH, GridW: f.GridW},
		Failures: failures(part.Failures), Timings: timings(part.Timings),
	}, nil
}

// bankFromFeatures makes the bank of the pool's features (parts, in
// image order), with no threshold yet, and returns the bank's bytes for
// the other workers.
func (e *engine) bankFromFeatures(r protocol.BankFromFeatures, progress patchcore.Progress) (any, error) {
	in, cfg, err := e.step(r.Options, false)
	if err != nil {
		return nil, err
	}
	// Sizes come from another worker: check them before joining.
	total, count := 0, 0
	var gh, gw int
	for i, p := range r.Parts {
		n := p.Vectors.Len
		if p.Images < 0 {
			return nil, fmt.Errorf("feature part %d: %d images", i, p.Images)
		}
		if p.Images == 0 {
			if n != 0 {
				return nil, fmt.Errorf("feature part %d: %d values for no image", i, n)
			}
			continue
		}
		if (gh != 0 && (p.GridH != gh || p.GridW != gw)) || p.GridH <= 0 || p.GridW <= 0 {
			return nil, fmt.Errorf("feature part %d has a %dx%d patch grid, others %dx%d", i, p.GridH, p.GridW, gh, gw)
		}
		gh, gw = p.GridH, p.GridW
		total += n
		count += p.Images
	}
	if want := count * gh * gw * cfg.Embed.TargetDim; total != want {
		return nil, fmt.Errorf("%d feature values for %d images of %dx%d patches, want %d", total, count, gh, gw, want)
	}
	f := &patchcore.Features{Vectors: make([]float32, total), Images: count, GridH: gh, GridW: gw}
	at := 0
	for _, p := range r.Parts {
		if p.Images > 0 {
			p.Vectors.Read(f.Vectors[at : at+p.Vectors.Len])
			at += p.Vectors.Len
		}
	}
	t, err := in.BuildBank(f, cfg, progress)
	if err != nil {
		return nil, err
	}
	f = nil // the patch vectors can go before the bank's bytes are made
	data, err := in.EncodeBank()
	if err != nil {
		return nil, err
	}
	return protocol.BankFromFeaturesReply{Bank: data, Timings: timings(t)}, nil
}

// scoreHeldOut scores a share of the held-out images against the bank.
func (e *engine) scoreHeldOut(r protocol.ScoreHeldOut, progress patchcore.Progress) (any, error) {
	in, cfg, err := e.step(r.Options, true)
	if err != nil {
		return nil, err
	}
	n := len(r.Images)
	scores, part, err := in.ScoreHeldOut(images(r.Images), cfg, func(done int) { progress("threshold", done, n) })
	if err != nil {
		return nil, err
	}
	return protocol.ScoreHeldOutReply{Scores: scores, Failures: failures(part.Failures), Timings: timings(part.Timings)}, nil
}

// setThreshold sets the bank's threshold from all held-out scores, in
// image order; every worker does, so all predict alike.
func (e *engine) setThreshold(r protocol.SetThreshold) (any, error) {
	in, cfg, err := e.step(r.Options, true)
	if err != nil {
		return nil, err
	}
	if err := in.ThresholdFrom(r.Scores, cfg); err != nil {
		return nil, err
	}
	return summary(in), nil
}

func (e *engine) predict(r protocol.Predict) (any, error) {
	in, err := e.withBank()
	if err != nil {
		return nil, err
	}
	img, err := decodeImage(r.Image)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	ps, err := in.Predict([]image.Image{img}, inspector.PredictOptions{Overlay: true})
	if err != nil {
		return nil, err
	}
	p := ps[0]
	return protocol.PredictReply{
		Score: p.Score, Threshold: p.Threshold, IsAnomalous: p.IsAnomalous,
		Map:     protocol.Map{Width: p.MapW, Height: p.MapH, Data: p.Map},
		Overlay: protocol.RGBA{Width: p.Overlay.Rect.Dx(), Height: p.Overlay.Rect.Dy(), Data: p.Overlay.Pix},
		MS:      ms(time.Since(t0)),
	}, nil
}

func (e *engine) saveBank() (any, error) {
	in, err := e.model()
	if err != nil {
		return nil, err
	}
	return in.EncodeBank()
}

func (e *engine) loadBank(r protocol.LoadBank) (any, error) {
	in, err := e.model()
	if err != nil {
		return nil, err
	}
	if err := in.DecodeBank(r.Bytes); err != nil {
		return nil, err
	}
	b := in.Bank()
	return protocol.LoadBankReply{BankSize: b.N, TrainImages: b.TrainImages, Threshold: b.Threshold, Model: b.ModelName, Created: b.Created}, nil
}

// benchBackbone times batch-1 forward passes of the model on a fixed
// input: the figure to set against ONNX Runtime Web in the same browser.
func (e *engine) benchBackbone(r protocol.BenchBackbone) (any, error) {
	in, err := e.model()
	if err != nil {
		return nil, err
	}
	t, err := in.BenchBackbone(r.Runs, 1)
	if err != nil {
		return nil, err
	}
	return protocol.BenchBackboneReply{MedianMS: t.MedianMS, GFLOPs: t.GFLOPs, Runs: t.Runs}, nil
}

// decodeImage turns an image message, file bytes (decoded by Go exactly
// as natively) or straight RGBA pixels, into an image.
func decodeImage(m protocol.Image) (image.Image, error) {
	if m.Bytes != nil {
		img, err := imageprep.Decode(m.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		return img, nil
	}
	p := m.Pixels
	if p == nil {
		return nil, fmt.Errorf("%s: neither file bytes nor pixels", m.Name)
	}
	if p.Width <= 0 || p.Height <= 0 || p.Height > imageprep.MaxPixels/p.Width || len(p.Data) != 4*p.Width*p.Height {
		return nil, fmt.Errorf("%s: %d bytes of pixels for %dx%d RGBA", m.Name, len(p.Data), p.Width, p.Height)
	}
	// ImageData holds straight (not premultiplied) RGBA.
	return &image.NRGBA{Pix: p.Data, Stride: 4 * p.Width, Rect: image.Rect(0, 0, p.Width, p.Height)}, nil
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1e3 }
