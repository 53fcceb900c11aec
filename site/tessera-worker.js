// Starts Tessera's engine (tessera.wasm) in this module Web Worker, with
// its SIMD kernels. The first message says how ({boot: {simd}}); requests
// that arrive while the wasm loads are queued for it. All files are found
// relative to this module, which bundlers (Vite, webpack) follow and copy,
// so the npm package needs no file copied by hand.
import './wasm_exec.js';
import { simdKernels } from './tessera-simd.js';

self.tesseraPending = [];
let booted = false;
self.onmessage = (e) => {
  if (!booted && e.data?.boot) {
    booted = true;
    start(e.data.boot).catch((err) => self.postMessage({ fatal: String(err) }));
    return;
  }
  self.tesseraPending.push(e);
};

async function start({ simd = 'auto' }) {
  const kernels = await simdKernels(simd);
  const go = new Go();
  Object.assign(go.importObject, kernels.imports);
  const r = await WebAssembly.instantiateStreaming(fetch(new URL('./tessera.wasm', import.meta.url)), go.importObject);
  await kernels.attach(r.instance);
  self.wasm = r; // the WebGPU bindings read wasm memory through it
  go.run(r.instance);
}
