// Starts Tessera's engine (tessera.wasm) in this module Web Worker.
// Requests that arrive while the wasm loads are queued for it. Both files
// are found relative to this module, which bundlers (Vite, webpack) follow
// and copy, so the npm package needs no file copied by hand.
import './wasm_exec.js';

self.tesseraPending = [];
self.onmessage = (e) => self.tesseraPending.push(e);
const go = new Go();
WebAssembly.instantiateStreaming(fetch(new URL('./tessera.wasm', import.meta.url)), go.importObject)
  .then((r) => {
    self.wasm = r; // the WebGPU bindings read wasm memory through it
    go.run(r.instance);
  })
  .catch((err) => self.postMessage({ fatal: String(err) }));
