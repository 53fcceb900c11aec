// Go's wasm_exec_node.js, plus the "tessera_simd" imports bound from the
// repository's kernel modules (see site/tessera-simd.js).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

if (process.argv.length < 3) {
  console.error('usage: go_js_wasm_exec WASM [ARGS...]');
  process.exit(1);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..', '..');
const goroot = process.env.GOROOT || execFileSync('go', ['env', 'GOROOT']).toString().trim();

globalThis.require = createRequire(import.meta.url);
globalThis.fs = fs;
globalThis.path = path;
globalThis.crypto ??= (await import('node:crypto')).webcrypto;
globalThis.require(path.join(goroot, 'lib', 'wasm', 'wasm_exec.js'));
const { simdKernels } = await import(path.join(repo, 'site', 'tessera-simd.js'));

const modules = path.join(repo, 'core', 'compute', 'cpu', 'wasmsimd');
const kernels = await simdKernels(process.env.TESSERA_SIMD || 'auto',
  (name) => fs.readFileSync(path.join(modules, name === 'relaxed' ? 'kernels_relaxed.wasm' : 'kernels.wasm')));
const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: os.tmpdir() }, process.env);
go.exit = process.exit;
Object.assign(go.importObject, kernels.imports);
try {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject);
  await kernels.attach(instance);
  process.on('exit', (code) => { // Node exits when no event handler is pending
    if (code === 0 && !go.exited) {
      // A deadlock: make Go print the error and the stacks.
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  await go.run(instance);
} catch (err) {
  console.error(err);
  process.exit(1);
}
