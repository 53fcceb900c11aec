// Starts Tessera's engine (tessera.wasm) in this Web Worker. Requests that
// arrive while the wasm loads are queued for it.
self.tesseraPending = [];
self.onmessage = (e) => self.tesseraPending.push(e);
importScripts('wasm_exec.js');
const go = new Go();
WebAssembly.instantiateStreaming(fetch('tessera.wasm'), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((err) => self.postMessage({ fatal: String(err) }));
