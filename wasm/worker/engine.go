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
	if choice.Fallback != nil {
		x.Exec.SetFallback(&backbone.Fallback{Open: choice.Fallback, Log: func(msg string) {
			e.fallback = msg
			js.Global().Get("console").Call("warn", "Tessera: "+msg)
		}})
	}
	e.x, e.det, e.fallback, e.search = x, nil, choice.Why, search
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
	list := args.Get("images")
	images := make([]patchcore.Image, list.Length())
	for i := range images {
		v := list.Index(i)
		images[i] = patchcore.Image{Name: v.Get("name").String(), Load: func() (image.Image, error) { return decode(v) }}
	}
	cfg := patchcore.Default()
	cfg.Search = e.search
	opts := args.Get("options")
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
	t0 := time.Now()
	b, rep, err := patchcore.Fit(e.x, images, cfg, progress)
	if err != nil {
		return nil, err
	}
	// The detector that set the threshold has its search index laid out
	// already; building another costs seconds in wasm.
	det := rep.Detector
	if det == nil {
		if det, err = patchcore.NewDetector(e.x, b); err != nil {
			return nil, err
		}
		if err := det.SetSearch(e.search); err != nil {
			return nil, err
		}
	}
	e.det = det
	failures := []any{}
	for _, f := range rep.Failures {
		failures = append(failures, f.Error())
	}
	return map[string]any{
		"bankSize": b.N, "trainImages": b.TrainImages, "trainPatches": b.TrainPatches,
		"threshold": b.Threshold, "thresholdRule": b.ThresholdRule, "failures": failures,
		"ms": float64(time.Since(t0).Microseconds()) / 1e3,
		"timings": map[string]any{
			"backboneMs": ms(rep.Timings.Backbone), "embedMs": ms(rep.Timings.Embed),
			"coresetMs": ms(rep.Timings.Coreset), "searchMs": ms(rep.Timings.Search),
		},
	}, nil
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
	// The bank says how its images were prepared; use the same.
	e.x.Prep = b.Prep
	det, err := patchcore.NewDetector(e.x, b)
	if err != nil {
		return nil, err
	}
	if err := det.SetSearch(e.search); err != nil {
		return nil, err
	}
	e.det = det
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
