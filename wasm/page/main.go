//go:build js && wasm

// Command page is Tessera's demo page: it wires the controls of
// site/index.html to the JS API (site/tessera.js), which runs the engine
// in a Web Worker. The page itself does no heavy work.
package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"
)

// page is the demo's state.
type page struct {
	doc       dom.Document
	tessera   js.Value // the current Tessera instance
	modelURL  string   // or "" when the model came from a file
	modelBlob js.Value // the dropped ONNX file, when there is one
	backend   string
	train     []js.Value // File objects
	cards     []*card
	threshold float64
	busy      bool
	started   time.Time
	loads     int // useModel calls so far: a slower, older load gives way
}

type card struct {
	name  string
	score float64
	badge dom.Element
}

func main() {
	p := &page{doc: dom.GetWindow().Document(), started: time.Now()}
	p.wire()
	go p.loadModelList()
	select {} // keep the callbacks alive
}

func (p *page) el(id string) dom.Element { return p.doc.GetElementByID(id) }

func (p *page) on(id, event string, f func(dom.Event)) {
	p.el(id).AddEventListener(event, false, func(e dom.Event) { go f(e) })
}

func (p *page) status(format string, args ...any) {
	p.el("status").SetTextContent(fmt.Sprintf(format, args...))
}

func (p *page) fail(err error) {
	p.status("Error: %v", err)
	p.el("status").Class().Add("error")
}

func (p *page) wire() {
	p.on("model-select", "change", func(dom.Event) { p.useModel(p.selectedModel(), js.Undefined()) })
	p.on("backend-select", "change", func(dom.Event) { p.useModel(p.modelURL, p.modelBlob) })
	p.on("model-file", "change", func(dom.Event) {
		if f := p.files("model-file"); len(f) > 0 {
			p.useModel("", f[0])
		}
	})
	for _, id := range []string{"train-input", "train-folder"} {
		p.on(id, "change", func(dom.Event) { p.addTrain(p.files(id)) })
	}
	p.dropZone("train-drop", p.addTrain)
	p.on("test-input", "change", func(dom.Event) { p.predictAll(p.files("test-input")) })
	p.dropZone("test-drop", p.predictAll)
	p.on("fit", "click", func(dom.Event) { p.fit() })
	p.on("try-sample", "click", func(dom.Event) { p.trySample() })
	p.on("cancel", "click", func(dom.Event) { p.cancel() })
	p.on("save-bank", "click", func(dom.Event) { p.saveBank() })
	p.on("load-bank", "change", func(dom.Event) {
		if f := p.files("load-bank"); len(f) > 0 {
			p.loadBank(f[0])
		}
	})
	p.on("threshold", "input", func(dom.Event) {
		p.threshold = p.el("threshold").Underlying().Get("valueAsNumber").Float()
		p.relabel()
	})
}

// files returns the File objects an <input type=file> holds.
func (p *page) files(id string) []js.Value {
	fl := p.el(id).Underlying().Get("files")
	out := make([]js.Value, fl.Length())
	for i := range out {
		out[i] = fl.Index(i)
	}
	return out
}

// dropZone accepts dropped files, folders included.
func (p *page) dropZone(id string, use func([]js.Value)) {
	z := p.el(id)
	z.AddEventListener("dragover", false, func(e dom.Event) {
		e.PreventDefault()
		z.Class().Add("over")
	})
	z.AddEventListener("dragleave", false, func(dom.Event) { z.Class().Remove("over") })
	z.AddEventListener("drop", false, func(e dom.Event) {
		e.PreventDefault()
		z.Class().Remove("over")
		items := e.Underlying().Get("dataTransfer").Get("items")
		var entries []js.Value
		for i := 0; i < items.Length(); i++ {
			if en := items.Index(i).Call("webkitGetAsEntry"); en.Truthy() {
				entries = append(entries, en)
			}
		}
		go func() { use(collectFiles(entries)) }()
	})
}

// collectFiles walks dropped file-system entries into image files.
func collectFiles(entries []js.Value) []js.Value {
	var out []js.Value
	for _, en := range entries {
		if en.Get("isFile").Bool() {
			f, err := await(js.Global().Get("Promise").New(js.FuncOf(func(_ js.Value, a []js.Value) any {
				en.Call("file", a[0], a[1])
				return nil
			})))
			if err == nil {
				out = append(out, f)
			}
			continue
		}
		reader := en.Call("createReader")
		for {
			batch, err := await(js.Global().Get("Promise").New(js.FuncOf(func(_ js.Value, a []js.Value) any {
				reader.Call("readEntries", a[0], a[1])
				return nil
			})))
			if err != nil || batch.Length() == 0 {
				break
			}
			var sub []js.Value
			for i := 0; i < batch.Length(); i++ {
				sub = append(sub, batch.Index(i))
			}
			out = append(out, collectFiles(sub)...)
		}
	}
	return out
}

// isImage says whether a dropped file is one the engine decodes (the
// formats of imageprep.Formats, by extension).
func isImage(f js.Value) bool {
	n := strings.ToLower(f.Get("name").String())
	for _, ext := range []string{".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// loadModelList fills the model menu from the server's weights folder.
func (p *page) loadModelList() {
	list, err := await(js.Global().Call("fetch", "weights/index.json").Call("then", js.FuncOf(func(_ js.Value, a []js.Value) any {
		return a[0].Call("json")
	})))
	sel := p.el("model-select")
	def := ""
	if err == nil {
		for i := 0; i < list.Length(); i++ {
			name := list.Index(i).Get("name").String()
			opt := p.doc.CreateElement("option")
			opt.SetAttribute("value", "weights/"+name)
			opt.SetTextContent(fmt.Sprintf("%s (%.1f MB)", name, list.Index(i).Get("size").Float()/1e6))
			sel.AppendChild(opt)
			if name == "mobilenetv2-layer3.onnx" || def == "" {
				def = "weights/" + name
			}
		}
	}
	if def == "" {
		p.status("No model on the server: drop an ONNX file on the model picker.")
		return
	}
	sel.Underlying().Set("value", def)
	p.useModel(def, js.Undefined())
}

// simd is the page address's ?simd= (auto, relaxed, simd128 or off), for
// setting the CPU kernels against each other; auto when absent.
func (p *page) simd() string {
	q := js.Global().Get("URLSearchParams").New(js.Global().Get("location").Get("search")).Call("get", "simd")
	if q.IsNull() {
		return "auto"
	}
	return q.String()
}

func (p *page) selectedModel() string { return p.el("model-select").Underlying().Get("value").String() }

// useModel starts a fresh engine with a model from the server or a file.
func (p *page) useModel(url string, blob js.Value) {
	// The backend can be changed before the model list has arrived: the
	// load that follows reads the choice then.
	if url == "" && !blob.Truthy() {
		return
	}
	if p.tessera.Truthy() {
		p.tessera.Call("cancel")
		p.tessera = js.Undefined()
	}
	p.loads++
	load := p.loads
	p.modelURL, p.modelBlob = url, blob
	p.backend = p.el("backend-select").Underlying().Get("value").String()
	var model js.Value
	label := url
	if url != "" {
		model = js.ValueOf(url)
	} else {
		model, label = blob, blob.Get("name").String()
	}
	p.setBusy(true)
	p.status("Loading %s...", label)
	t, err := await(js.Global().Get("Tessera").Call("create", map[string]any{"model": model, "backend": p.backend, "simd": p.simd()}))
	if load != p.loads {
		// Another model or backend was chosen meanwhile; that load wins.
		if err == nil {
			t.Call("cancel")
		}
		return
	}
	p.setBusy(false)
	if err != nil {
		p.tessera = js.Undefined()
		p.fail(err)
		return
	}
	p.tessera = t
	p.el("status").Class().Remove("error")
	p.showBackend()
	p.status("Model %s ready: layers %v. Add good images and fit.", label, jsStrings(t.Get("info").Get("layers")))
	if !js.Global().Get("tesseraReadyMs").Truthy() {
		// Time to first interaction: the page can be used from here on.
		js.Global().Set("tesseraReadyMs", js.Global().Get("performance").Call("now"))
	}
	p.el("model-ready").SetAttribute("data-ready", "1")
}

func (p *page) addTrain(files []js.Value) {
	for _, f := range files {
		if isImage(f) {
			p.train = append(p.train, f)
		}
	}
	p.el("train-count").SetTextContent(fmt.Sprintf("%d good images", len(p.train)))
}

func (p *page) setBusy(b bool) {
	p.busy = b
	for _, id := range []string{"fit", "try-sample", "model-select", "backend-select", "model-file", "load-bank"} {
		if b {
			p.el(id).SetAttribute("disabled", "")
		} else {
			p.el(id).RemoveAttribute("disabled")
		}
	}
	if b {
		p.el("cancel").RemoveAttribute("disabled")
	} else {
		p.el("cancel").SetAttribute("disabled", "")
	}
}

// trySample fits on the sample's good images and scores its test images,
// so a first visitor sees the whole product work with one click.
func (p *page) trySample() {
	if !p.tessera.Truthy() {
		p.status("Load a model first.")
		return
	}
	p.setBusy(true)
	p.status("Fetching the sample images...")
	list, err := await(js.Global().Call("fetch", "sample/index.json").Call("then", js.FuncOf(func(_ js.Value, a []js.Value) any {
		if !a[0].Get("ok").Bool() {
			return js.Global().Get("Promise").Call("reject", js.Global().Get("Error").New("sample/index.json: HTTP "+a[0].Get("status").String()))
		}
		return a[0].Call("json")
	})))
	var train, test []js.Value
	if err == nil {
		train, err = fetchFiles(list.Get("train"))
	}
	if err == nil {
		test, err = fetchFiles(list.Get("test"))
	}
	p.setBusy(false)
	if err != nil {
		p.fail(fmt.Errorf("the sample: %w", err))
		return
	}
	p.train, p.cards = nil, nil
	p.el("results").SetInnerHTML("")
	p.addTrain(train)
	if !p.fit() {
		return
	}
	p.predictAll(test)
}

// fetchFiles fetches the listed sample images as File objects named by
// their path (train/good/00.jpg).
func fetchFiles(list js.Value) ([]js.Value, error) {
	out := make([]js.Value, list.Length())
	for i := range out {
		path := list.Index(i).Get("path").String()
		blob, err := await(js.Global().Call("fetch", "sample/"+path).Call("then", js.FuncOf(func(_ js.Value, a []js.Value) any {
			if !a[0].Get("ok").Bool() {
				return js.Global().Get("Promise").Call("reject", js.Global().Get("Error").New(path+": HTTP "+a[0].Get("status").String()))
			}
			return a[0].Call("blob")
		})))
		if err != nil {
			return nil, err
		}
		out[i] = js.Global().Get("File").New([]any{blob}, path, map[string]any{"type": blob.Get("type")})
	}
	return out, nil
}

// fit fits on the good images added so far and reports whether it did.
func (p *page) fit() bool {
	if !p.tessera.Truthy() || len(p.train) == 0 {
		p.status("Load a model and add good images first.")
		return false
	}
	p.setBusy(true)
	defer p.setBusy(false)
	start := time.Now()
	bar := p.el("progress").Underlying()
	onProgress := js.FuncOf(func(_ js.Value, a []js.Value) any {
		pr := a[0]
		done, total := pr.Get("done").Int(), pr.Get("total").Int()
		bar.Set("max", total)
		bar.Set("value", done)
		p.status("%s %d/%d, %.1f s on %s", pr.Get("stage").String(), done, total, time.Since(start).Seconds(), p.tessera.Get("backend").String())
		return nil
	})
	defer onProgress.Release()
	files := make([]any, len(p.train))
	for i, f := range p.train {
		files[i] = f
	}
	res, err := await(p.tessera.Call("fit", files, map[string]any{"onProgress": onProgress}))
	if err != nil {
		p.fail(err)
		return false
	}
	p.threshold = res.Get("threshold").Float()
	sl := p.el("threshold").Underlying()
	top := math.Max(3*p.threshold, 1e-6)
	sl.Set("max", top)
	sl.Set("step", top/1000)
	sl.Set("value", p.threshold)
	p.el("threshold-box").RemoveAttribute("hidden")
	p.el("save-bank").RemoveAttribute("disabled")
	msg := fmt.Sprintf("Fitted in %.1f s on %s (%s): %d of %d patches from %d images, threshold %.3g.",
		time.Since(start).Seconds(), p.tessera.Get("backend").String(), workersText(p.tessera.Get("workers").Int()), res.Get("bankSize").Int(),
		res.Get("trainPatches").Int(), res.Get("trainImages").Int(), p.threshold)
	if f := res.Get("failures"); f.Length() > 0 {
		msg += fmt.Sprintf(" Skipped %d unreadable: %s", f.Length(), strings.Join(jsStrings(f), "; "))
	}
	p.status("%s", msg)
	p.showBackend()
	p.relabel()
	return true
}

func workersText(n int) string {
	if n == 1 {
		return "1 worker"
	}
	return fmt.Sprintf("%d workers", n)
}

// showBackend names the backend that runs, and on hover why it is not the
// one asked for: under "auto" a failed GPU is replaced mid-run.
func (p *page) showBackend() {
	info := p.tessera.Get("info")
	el := p.el("backend")
	text := info.Get("backend").String()
	if n := p.tessera.Get("workers").Int(); n > 1 {
		text += fmt.Sprintf(" · %d workers", n)
	}
	el.SetTextContent(text)
	el.RemoveAttribute("title")
	if why := info.Get("fallback"); why.Truthy() {
		el.SetAttribute("title", why.String())
	}
}

func (p *page) cancel() {
	if !p.busy {
		return
	}
	p.tessera.Call("cancel")
	p.tessera = js.Undefined()
	p.status("Cancelled; reloading the model...")
	p.setBusy(false)
	p.useModel(p.modelURL, p.modelBlob)
}

func (p *page) predictAll(files []js.Value) {
	if !p.tessera.Truthy() || !p.tessera.Get("bank").Truthy() {
		p.status("Fit or load a memory bank first.")
		return
	}
	grid := p.el("results")
	var imgs []js.Value
	for _, f := range files {
		if isImage(f) {
			imgs = append(imgs, f)
		}
	}
	// As many images at once as there are engines; cards keep their order.
	w := max(1, p.tessera.Get("workers").Int())
	for start := 0; start < len(imgs); start += w {
		batch := imgs[start:min(start+w, len(imgs))]
		pending := make([]js.Value, len(batch))
		for j, f := range batch {
			pending[j] = p.tessera.Call("predict", f)
		}
		for j, f := range batch {
			p.status("Scoring %d/%d: %s", start+j+1, len(imgs), f.Get("name").String())
			r, err := await(pending[j])
			if err != nil {
				p.fail(err)
				continue
			}
			c := &card{name: f.Get("name").String(), score: r.Get("score").Float()}
			grid.AppendChild(p.cardElement(c, r))
			p.cards = append(p.cards, c)
			js.Global().Get("tesseraResults").Call("push", map[string]any{"name": c.name, "score": c.score, "ms": r.Get("ms")})
		}
	}
	p.showBackend()
	p.relabel()
	p.status("Scored %d images.", len(p.cards))
}

// cardElement shows an image's heatmap overlay, score and verdict.
func (p *page) cardElement(c *card, r js.Value) dom.Element {
	box := p.doc.CreateElement("figure")
	box.Class().Add("card")
	ov := r.Get("overlay")
	w, h := ov.Get("width").Int(), ov.Get("height").Int()
	cv := p.doc.CreateElement("canvas")
	cv.SetAttribute("width", fmt.Sprint(w))
	cv.SetAttribute("height", fmt.Sprint(h))
	cv.Class().Add("heatmap")
	data := js.Global().Get("Uint8ClampedArray").New(ov.Get("data").Get("buffer"))
	img := js.Global().Get("ImageData").New(data, w, h)
	cv.Underlying().Call("getContext", "2d").Call("putImageData", img, 0, 0)
	box.AppendChild(cv)
	cap := p.doc.CreateElement("figcaption")
	cap.SetTextContent(fmt.Sprintf("%s · %.3g ", c.name, c.score))
	c.badge = p.doc.CreateElement("span")
	cap.AppendChild(c.badge)
	box.AppendChild(cap)
	return box
}

// relabel applies the threshold slider to every scored image.
func (p *page) relabel() {
	p.el("threshold-value").SetTextContent(fmt.Sprintf("%.4g", p.threshold))
	bad := 0
	for _, c := range p.cards {
		anomalous := p.threshold > 0 && c.score > p.threshold
		c.badge.Class().Remove("good")
		c.badge.Class().Remove("bad")
		if anomalous {
			bad++
			c.badge.SetTextContent("anomalous")
			c.badge.Class().Add("bad")
		} else {
			c.badge.SetTextContent("good")
			c.badge.Class().Add("good")
		}
	}
	if len(p.cards) > 0 {
		p.el("summary").SetTextContent(fmt.Sprintf("%d of %d flagged at threshold %.4g", bad, len(p.cards), p.threshold))
	}
}

func (p *page) saveBank() {
	b, err := await(p.tessera.Call("saveBank"))
	if err != nil {
		p.fail(err)
		return
	}
	blob := js.Global().Get("Blob").New([]any{b}, map[string]any{"type": "application/octet-stream"})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := p.doc.CreateElement("a")
	a.SetAttribute("href", url.String())
	a.SetAttribute("download", "tessera.tbank")
	a.Underlying().Call("click")
	js.Global().Get("URL").Call("revokeObjectURL", url)
}

func (p *page) loadBank(f js.Value) {
	bytes, err := await(f.Call("arrayBuffer"))
	if err != nil {
		p.fail(err)
		return
	}
	model := js.ValueOf(p.modelURL)
	if p.modelURL == "" {
		model = p.modelBlob
	}
	if p.tessera.Truthy() {
		p.tessera.Call("cancel")
	}
	p.setBusy(true)
	t, err := await(js.Global().Get("Tessera").Call("loadBank", bytes, map[string]any{"model": model, "backend": p.backend, "simd": p.simd()}))
	p.setBusy(false)
	if err != nil {
		p.fail(err)
		p.useModel(p.modelURL, p.modelBlob)
		return
	}
	p.tessera = t
	p.showBackend()
	p.threshold = t.Get("bank").Get("threshold").Float()
	sl := p.el("threshold").Underlying()
	sl.Set("max", math.Max(3*p.threshold, 1e-6))
	sl.Set("value", p.threshold)
	p.el("threshold-box").RemoveAttribute("hidden")
	p.el("save-bank").RemoveAttribute("disabled")
	p.status("Loaded a bank of %d vectors from %d images, threshold %.3g.", t.Get("bank").Get("bankSize").Int(), t.Get("bank").Get("trainImages").Int(), p.threshold)
	p.relabel()
}

// await blocks the calling goroutine until a JS promise settles. It must
// not run on the goroutine of a JS callback.
func await(promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{v: arg(a)}
		return nil
	})
	bad := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "rejected"
		if e := arg(a); e.Truthy() {
			if m := e.Get("message"); m.Truthy() {
				msg = m.String()
			} else {
				msg = e.Call("toString").String()
			}
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer ok.Release()
	defer bad.Release()
	js.Global().Get("Promise").Call("resolve", promise).Call("then", ok, bad)
	r := <-ch
	return r.v, r.err
}

func arg(a []js.Value) js.Value {
	if len(a) == 0 {
		return js.Undefined()
	}
	return a[0]
}

func jsStrings(v js.Value) []string {
	out := make([]string, v.Length())
	for i := range out {
		out[i] = v.Index(i).String()
	}
	return out
}
