// Starts Tessera's engine (tessera.wasm) in this Web Worker. Requests that
// arrive while the wasm loads are queued for it.
self.tesseraPending = [];
self.onmessage = (e) => self.tesseraPending.push(e);
importScripts('wasm_exec.js');
const go = new Go();
WebAssembly.instantiateStreaming(fetch('tessera.wasm'), go.importObject)
  .then((r) => {
    self.wasm = r; // the WebGPU bindings read wasm memory through it
    go.run(r.instance);
  })
  .catch((err) => self.postMessage({ fatal: String(err) }));
