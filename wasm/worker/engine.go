//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/backends"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/segment"
)

// engine holds the loaded model and, once fitted or loaded, the bank.
type engine struct {
	x   *patchcore.Extractor
	det *patchcore.Detector
	// model and name are the model's bytes and name, and fb its fallback
	// device: a bank made with other layers or another input size needs
	// the model loaded again for them.
	model []byte
	name  string
	fb    *backbone.Fallback
	// fallback says why the backend running is not the one asked for.
	fallback string
	// search is how patches find their nearest bank vectors.
	search patchcore.Search
}

func (e *engine) handle(op string, args js.Value, progress patchcore.Progress) (any, error) {
	switch op {
	case "init":
		return e.init(args)
	case "fit":
		return e.fit(args, progress)
	case "predict":
		return e.predict(args)
	case "saveBank":
		return e.saveBank()
	case "loadBank":
		return e.loadBank(args)
	case "benchBackbone":
		return e.benchBackbone(args)
	// The worker pool's steps of a fit (site/tessera.js runs them).
	case "plan":
		return e.plan(args)
	case "embed":
		return e.embed(args, progress)
	case "bankFromFeatures":
		return e.bankFromFeatures(args, progress)
	case "scoreHeldOut":
		return e.scoreHeldOut(args, progress)
	case "setThreshold":
		return e.setThreshold(args)
	}
	return nil, fmt.Errorf("unknown request %q", op)
}

func (e *engine) init(args js.Value) (any, error) {
	model := bytesOf(args.Get("model"))
	name := args.Get("name").String()
	kind := args.Get("backend").String()
	if args.Get("backend").IsUndefined() {
		kind = "auto"
	}
	search, err := patchcore.ParseSearch(stringOr(args.Get("search"), ""))
	if err != nil {
		return nil, err
	}
	choice, err := backends.Open(kind)
	if err != nil {
		return nil, err
	}
	x, err := patchcore.NewExtractor(model, name, backbone.Options{}, imageprep.ImageNet(), choice.Backend)
	if err != nil {
		return nil, err
	}
	var fb *backbone.Fallback
	if choice.Fallback != nil {
		fb = &backbone.Fallback{Open: choice.Fallback, Log: func(msg string) {
			e.fallback = msg
			js.Global().Get("console").Call("warn", "Tessera: "+msg)
		}}
		x.Exec.SetFallback(fb)
	}
	e.x, e.det, e.fallback, e.search = x, nil, choice.Why, search
	e.model, e.name, e.fb = model, name, fb
	m := x.Exec.Model()
	layers := []any{}
	for _, l := range m.Layers() {
		layers = append(layers, l)
	}
	c, h, w := m.InputShape()
	return map[string]any{"backend": x.Exec.Backend().Name(), "fallback": choice.Why, "layers": layers, "input": []any{c, h, w}, "gflops": m.FLOPs() / 1e9}, nil
}

func (e *engine) fit(args js.Value, progress patchcore.Progress) (any, error) {
	if e.x == nil {
		return nil, errors.New("no model loaded")
	}
	images := imageList(args.Get("images"))
	cfg := e.config(args.Get("options"))
	t0 := time.Now()
	b, rep, err := patchcore.Fit(e.x, images, cfg, progress)
	if err != nil {
		return nil, err
	}
	// The detector that set the threshold has its search index laid out
	// already; building another costs seconds in wasm.
	det := rep.Detector
	if det == nil {
		if det, err = e.detector(e.x, b); err != nil {
			return nil, err
		}
	}
	e.det = det
	res := bankSummary(b)
	res["failures"] = failureList(rep.Failures)
	res["ms"] = float64(time.Since(t0).Microseconds()) / 1e3
	res["timings"] = timingsOf(rep.Timings)
	return res, nil
}

// imageList turns image messages into images decoded when first needed.
func imageList(list js.Value) []patchcore.Image {
	images := make([]patchcore.Image, list.Length())
	for i := range images {
		v := list.Index(i)
		images[i] = patchcore.Image{Name: v.Get("name").String(), Load: func() (image.Image, error) { return decode(v) }}
	}
	return images
}

// config is the fit configuration: the defaults, the engine's search and
// the fit options (coreset, k, dim, holdout) where given.
func (e *engine) config(opts js.Value) patchcore.Config {
	cfg := patchcore.Default()
	cfg.Search = e.search
	if opts.IsUndefined() || opts.IsNull() {
		return cfg
	}
	if f := opts.Get("coreset"); f.Truthy() {
		cfg.Coreset.Fraction = f.Float()
	}
	if k := opts.Get("k"); k.Truthy() {
		cfg.K = k.Int()
	}
	if d := opts.Get("dim"); d.Truthy() {
		cfg.Embed.PretrainDim, cfg.Embed.TargetDim = d.Int(), d.Int()
	}
	if h := opts.Get("holdout"); h.Type() == js.TypeNumber {
		cfg.Holdout = h.Float()
	}
	if q := opts.Get("quantile"); q.Type() == js.TypeNumber {
		cfg.Quantile = q.Float()
	}
	if t := opts.Get("threshold"); t.Type() == js.TypeNumber {
		cfg.Threshold = t.Float()
	}
	if p := opts.Get("bankPrecision"); p.Type() == js.TypeString {
		cfg.BankPrecision = p.String()
	}
	return cfg
}

// extractorFor returns the extractor bank b was made with: its layers,
// its input size (the crop, as the CLI's predict takes it) and its image
// preparation, loading the model again when the layers or the size
// differ. The engine's own extractor is left as it is until the bank is
// accepted.
func (e *engine) extractorFor(b *bank.Bank) (*patchcore.Extractor, error) {
	m := e.x.Exec.Model()
	_, h, w := m.InputShape()
	// Crop 0 keeps the model's own size, which the current one has. A bank
	// of another model is refused by NewDetector: no reload helps it.
	crop := b.Prep.Crop
	if b.ModelSHA256 != e.x.ModelSHA256 || slices.Equal(m.Layers(), b.Layers) && (crop == 0 || h == crop && w == crop) {
		x := *e.x
		x.Prep = b.Prep
		return &x, nil
	}
	x, err := patchcore.NewExtractor(e.model, e.name, backbone.Options{Layers: b.Layers, Height: crop, Width: crop}, b.Prep, e.x.Exec.Backend())
	if err != nil {
		return nil, fmt.Errorf("loading the model for the bank's layers %v and input size %d: %w", b.Layers, crop, err)
	}
	if e.fb != nil {
		x.Exec.SetFallback(e.fb)
	}
	return x, nil
}

// detector scores against b with extractor x and the engine's search.
func (e *engine) detector(x *patchcore.Extractor, b *bank.Bank) (*patchcore.Detector, error) {
	det, err := patchcore.NewDetector(x, b)
	if err != nil {
		return nil, err
	}
	return det, det.SetSearch(e.search)
}

func bankSummary(b *bank.Bank) map[string]any {
	return map[string]any{
		"bankSize": b.N, "trainImages": b.TrainImages, "trainPatches": b.TrainPatches,
		"threshold": b.Threshold, "thresholdRule": b.ThresholdRule,
	}
}

func failureList(fs []patchcore.Failure) []any {
	out := []any{}
	for _, f := range fs {
		out = append(out, f.Error())
	}
	return out
}

func timingsOf(t patchcore.Timings) map[string]any {
	return map[string]any{
		"backboneMs": ms(t.Backbone), "embedMs": ms(t.Embed),
		"coresetMs": ms(t.Coreset), "searchMs": ms(t.Search),
	}
}

// plan says which of count images a fit keeps in the bank and which it
// holds out for the threshold, as Fit would.
func (e *engine) plan(args js.Value) (any, error) {
	cfg := e.config(args.Get("options"))
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	train, hold, err := patchcore.Plan(args.Get("count").Int(), cfg)
	if err != nil {
		return nil, err
	}
	return map[string]any{"train": intList(train), "hold": intList(hold)}, nil
}

// embed runs a share of the training images through the backbone and
// the embedding; the patch vectors go back as a transferred Float32Array.
func (e *engine) embed(args js.Value, progress patchcore.Progress) (any, error) {
	if e.x == nil {
		return nil, errors.New("no model loaded")
	}
	images := imageList(args.Get("images"))
	cfg := e.config(args.Get("options"))
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var t patchcore.Timings
	var fails []patchcore.Failure
	f, err := e.x.Embed(images, cfg, &t, &fails, func(done int) { progress("backbone", done, len(images)) })
	if err != nil {
		return nil, err
	}
	vectors := float32Array(f.Vectors)
	return map[string]any{
		"vectors": vectors, "images": f.Images, "gridH": f.GridH, "gridW": f.GridW,
		"failures": failureList(fails), "timings": timingsOf(t),
		transferKey: []any{vectors.Get("buffer")},
	}, nil
}

// bankFromFeatures makes the bank of the pool's features (parts, in
// image order), with no threshold yet, keeps a detector on it and returns
// the bank's bytes for the other workers.
func (e *engine) bankFromFeatures(args js.Value, progress patchcore.Progress) (any, error) {
	if e.x == nil {
		return nil, errors.New("no model loaded")
	}
	cfg := e.config(args.Get("options"))
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	parts := args.Get("parts")
	// Sizes come from another worker: check them before allocating.
	total, images := 0, 0
	var gh, gw int
	for i := 0; i < parts.Length(); i++ {
		p := parts.Index(i)
		n := p.Get("vectors").Length()
		if p.Get("images").Int() < 0 {
			return nil, fmt.Errorf("feature part %d: %d images", i, p.Get("images").Int())
		}
		if p.Get("images").Int() == 0 {
			if n != 0 {
				return nil, fmt.Errorf("feature part %d: %d values for no image", i, n)
			}
			continue
		}
		h, w := p.Get("gridH").Int(), p.Get("gridW").Int()
		if (gh != 0 && (h != gh || w != gw)) || h <= 0 || w <= 0 {
			return nil, fmt.Errorf("feature part %d has a %dx%d patch grid, others %dx%d", i, h, w, gh, gw)
		}
		gh, gw = h, w
		total += n
		images += p.Get("images").Int()
	}
	if want := images * gh * gw * cfg.Embed.TargetDim; total != want {
		return nil, fmt.Errorf("%d feature values for %d images of %dx%d patches, want %d", total, images, gh, gw, want)
	}
	f := &patchcore.Features{Vectors: make([]float32, total), Images: images, GridH: gh, GridW: gw}
	at := 0
	for i := 0; i < parts.Length(); i++ {
		v := parts.Index(i).Get("vectors")
		n := v.Length()
		if n == 0 {
			continue
		}
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&f.Vectors[at])), 4*n)
		js.CopyBytesToGo(raw, js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), 4*n))
		at += n
	}
	var t patchcore.Timings
	b, err := patchcore.NewBank(e.x, f, cfg, &t, progress)
	if err != nil {
		return nil, err
	}
	f = nil // the patch vectors can go before the bank's bytes are made
	if e.det, err = e.detector(e.x, b); err != nil {
		return nil, err
	}
	data, err := b.Encode()
	if err != nil {
		return nil, err
	}
	bytes := uint8Array(data)
	return map[string]any{"bank": bytes, "timings": timingsOf(t), transferKey: []any{bytes.Get("buffer")}}, nil
}

// scoreHeldOut scores a share of the held-out images against the bank.
func (e *engine) scoreHeldOut(args js.Value, progress patchcore.Progress) (any, error) {
	if e.det == nil {
		return nil, errors.New("no memory bank: fit or load one first")
	}
	images := imageList(args.Get("images"))
	cfg := e.config(args.Get("options"))
	var t patchcore.Timings
	var fails []patchcore.Failure
	before := e.det.Timings().Search
	scores, err := e.det.ScoreHeldOut(images, cfg, &t, &fails, func(done int) { progress("threshold", done, len(images)) })
	if err != nil {
		return nil, err
	}
	t.Search = e.det.Timings().Search - before
	list := make([]any, len(scores))
	for i, s := range scores {
		list[i] = s
	}
	return map[string]any{"scores": list, "failures": failureList(fails), "timings": timingsOf(t)}, nil
}

// setThreshold sets the bank's threshold from all held-out scores, in
// image order; every worker does, so all predict alike.
func (e *engine) setThreshold(args js.Value) (any, error) {
	if e.det == nil {
		return nil, errors.New("no memory bank: fit or load one first")
	}
	cfg := e.config(args.Get("options"))
	list := args.Get("scores")
	scores := make([]float64, list.Length())
	for i := range scores {
		scores[i] = list.Index(i).Float()
	}
	b := e.det.Bank()
	if err := patchcore.SetThreshold(b, scores, cfg); err != nil {
		return nil, err
	}
	return bankSummary(b), nil
}

func intList(xs []int) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func (e *engine) predict(args js.Value) (any, error) {
	if e.det == nil {
		return nil, errors.New("no memory bank: fit or load one first")
	}
	img, err := decode(args.Get("image"))
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	rs, err := e.det.Predict([]image.Image{img})
	if err != nil {
		return nil, err
	}
	r := rs[0]
	b := e.det.Bank()
	hi := segment.HotAt(b.Threshold, r.Map)
	overlay := segment.Overlay(b.Prep.Prepare(img), r.Map, 0, hi)
	return map[string]any{
		"score": r.Score, "threshold": r.Threshold, "isAnomalous": r.IsAnomalous,
		"map":     map[string]any{"width": r.MapW, "height": r.MapH, "data": float32Array(r.Map)},
		"overlay": map[string]any{"width": overlay.Rect.Dx(), "height": overlay.Rect.Dy(), "data": uint8Array(overlay.Pix)},
		"ms":      float64(time.Since(t0).Microseconds()) / 1e3,
	}, nil
}

func (e *engine) saveBank() (any, error) {
	if e.det == nil {
		return nil, errors.New("no memory bank to save")
	}
	data, err := e.det.Bank().Encode()
	if err != nil {
		return nil, err
	}
	return uint8Array(data), nil
}

func (e *engine) loadBank(args js.Value) (any, error) {
	if e.x == nil {
		return nil, errors.New("no model loaded")
	}
	b, err := bank.Decode(bytesOf(args.Get("bytes")))
	if err != nil {
		return nil, err
	}
	x, err := e.extractorFor(b)
	if err != nil {
		return nil, err
	}
	det, err := e.detector(x, b)
	if err != nil {
		return nil, err
	}
	e.x, e.det = x, det
	return map[string]any{"bankSize": b.N, "trainImages": b.TrainImages, "threshold": b.Threshold, "model": b.ModelName, "created": b.Created}, nil
}

// benchBackbone times batch-1 forward passes of the model on a fixed
// input: the figure to set against ONNX Runtime Web in the same browser.
func (e *engine) benchBackbone(args js.Value) (any, error) {
	if e.x == nil {
		return nil, errors.New("no model loaded")
	}
	runs := max(args.Get("runs").Int(), 1)
	m := e.x.Exec.Model()
	c, h, w := m.InputShape()
	x := make([]float32, c*h*w)
	for i := range x {
		x[i] = float32(i%17)/8 - 1
	}
	shape := []int{1, c, h, w}
	if _, err := e.x.Exec.Run(x, shape); err != nil { // warm-up
		return nil, err
	}
	times := make([]float64, runs)
	for i := range times {
		t0 := time.Now()
		if _, err := e.x.Exec.Run(x, shape); err != nil {
			return nil, err
		}
		times[i] = float64(time.Since(t0).Microseconds()) / 1e3
	}
	slices.Sort(times)
	med := times[runs/2]
	if runs%2 == 0 {
		med = (times[runs/2-1] + times[runs/2]) / 2
	}
	return map[string]any{"medianMs": med, "gflops": m.FLOPs() / 1e9, "runs": runs}, nil
}

// decode turns an image message, {bytes} (a PNG or JPEG file, decoded by
// Go exactly as natively) or {pixels: {width, height, data}} (RGBA), into
// an image.
func decode(v js.Value) (image.Image, error) {
	name := v.Get("name").String()
	if b := v.Get("bytes"); b.Truthy() {
		img, err := imageprep.Decode(bytesOf(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return img, nil
	}
	p := v.Get("pixels")
	if !p.Truthy() {
		return nil, fmt.Errorf("%s: neither file bytes nor pixels", name)
	}
	w, h := p.Get("width").Int(), p.Get("height").Int()
	data := bytesOf(p.Get("data"))
	if w <= 0 || h <= 0 || len(data) != 4*w*h {
		return nil, fmt.Errorf("%s: %d bytes of pixels for %dx%d RGBA", name, len(data), w, h)
	}
	// ImageData holds straight (not premultiplied) RGBA.
	return &image.NRGBA{Pix: data, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}

// bytesOf copies an ArrayBuffer or typed array into Go.
func bytesOf(v js.Value) []byte {
	u8 := js.Global().Get("Uint8Array")
	if !v.InstanceOf(u8) {
		if v.Get("buffer").Truthy() {
			v = u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
		} else {
			v = u8.New(v)
		}
	}
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	return b
}

func uint8Array(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

func float32Array(f []float32) js.Value {
	if len(f) == 0 {
		return js.Global().Get("Float32Array").New(0)
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
	return js.Global().Get("Float32Array").New(uint8Array(raw).Get("buffer"))
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1e3 }

// stringOr is v as a string, or def when v is undefined or null.
func stringOr(v js.Value, def string) string {
	if v.IsUndefined() || v.IsNull() {
		return def
	}
	return v.String()
}
