//go:build js && wasm

// Command worker is Tessera's engine in the browser: it runs inside a Web
// Worker (site/tessera-worker.js starts it) and answers the requests that
// site/tessera.js, the JS API, posts to it. Everything heavy (the
// backbone, the coreset, the search) runs here, off the page's thread.
//
// Requests are {id, op, args}; replies are {id, ok: true, result} or
// {id, ok: false, error}, with {id, progress} messages in between. Once a
// model is loaded, replies also carry backend (the one that runs now) and
// fallback (why it is not the one asked for, if it is not).
package main

import (
	"fmt"
	"runtime/debug"
	"syscall/js"
)

func main() {
	// wasm32 memory ends at 4 GiB and never shrinks: past 3 GiB the
	// collector works harder rather than let the heap grow into the end
	// (a fit of a few hundred images holds a gigabyte of patch vectors).
	debug.SetMemoryLimit(3 << 30)
	e := &engine{}
	requests := make(chan js.Value, 64)
	self := js.Global()
	self.Set("onmessage", js.FuncOf(func(this js.Value, args []js.Value) any {
		requests <- args[0].Get("data")
		return nil
	}))
	// Messages that arrived while the wasm was loading wait in a queue.
	if q := self.Get("tesseraPending"); q.Truthy() {
		for i := 0; i < q.Length(); i++ {
			requests <- q.Index(i).Get("data")
		}
		self.Set("tesseraPending", js.Undefined())
	}
	self.Call("postMessage", map[string]any{"ready": true})
	// One request at a time, in order: the engine has one model and bank.
	for req := range requests {
		serve(e, req)
	}
}

// transferKey in a result map lists the ArrayBuffers to transfer with it.
const transferKey = "_transfer"

func serve(e *engine, req js.Value) {
	id := req.Get("id").Int()
	reply := func(v map[string]any) {
		v["id"] = id
		js.Global().Call("postMessage", v)
	}
	replyTransfer := func(v map[string]any, transfer []any) {
		v["id"] = id
		js.Global().Call("postMessage", v, transfer)
	}
	defer func() {
		if r := recover(); r != nil {
			reply(map[string]any{"ok": false, "error": fmt.Sprintf("internal error: %v", r)})
		}
	}()
	progress := func(stage string, done, total int) {
		reply(map[string]any{"progress": map[string]any{"stage": stage, "done": done, "total": total}})
	}
	res, err := e.handle(req.Get("op").String(), req.Get("args"), progress)
	v := map[string]any{"ok": true, "result": res}
	if err != nil {
		v = map[string]any{"ok": false, "error": err.Error()}
	}
	if e.x != nil {
		v["backend"], v["fallback"] = e.x.Exec.Backend().Name(), e.fallback
	}
	// Big results (patch vectors, bank bytes) move to the page, not copied.
	var transfer []any
	if m, ok := res.(map[string]any); ok {
		transfer, _ = m[transferKey].([]any)
		delete(m, transferKey)
	}
	v["memoryBytes"] = js.Global().Get("wasm").Get("instance").Get("exports").Get("mem").Get("buffer").Get("byteLength").Int()
	replyTransfer(v, transfer)
}
