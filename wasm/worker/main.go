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

	"github.com/tessera/tessera/wasm/protocol"
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

func serve(e *engine, req js.Value) {
	id := req.Get("id").Int()
	post := func(msg any) {
		var transfer []any
		v := encode(msg, &transfer)
		js.Global().Call("postMessage", v, transfer)
	}
	defer func() {
		if r := recover(); r != nil {
			post(protocol.Envelope{ID: id, Error: fmt.Sprintf("internal error: %v", r)})
		}
	}()
	progress := func(stage string, done, total int) {
		post(protocol.ProgressMessage{ID: id, Progress: protocol.Progress{Stage: stage, Done: done, Total: total}})
	}
	res, err := e.handle(req.Get("op").String(), req.Get("args"), progress)
	env := protocol.Envelope{ID: id, OK: err == nil, Result: res}
	if err != nil {
		env.Result, env.Error = nil, err.Error()
	}
	if e.in != nil {
		env.Backend, env.Fallback = e.in.Backend(), e.fallback
	}
	env.MemoryBytes = js.Global().Get("wasm").Get("instance").Get("exports").Get("mem").Get("buffer").Get("byteLength").Int()
	// Big results (patch vectors, bank bytes, maps) move to the page,
	// not copied: encode lists their buffers.
	post(env)
}
