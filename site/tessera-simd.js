// Binds Tessera's wasm SIMD kernels (the "tessera_simd" imports of
// tessera.wasm) for one Go instance. Go emits no SIMD, so the kernels are a
// small side module that works in place on the Go instance's memory; it can
// only be instantiated once that memory exists, so the imports start as
// forwarders that attach() points at the side module's exports.
//
//   const k = await simdKernels('auto');
//   Object.assign(go.importObject, k.imports);
//   const { instance } = await WebAssembly.instantiate(bytes, go.importObject);
//   await k.attach(instance);
//   go.run(instance);
//
// want: 'auto' or 'relaxed' (relaxed SIMD where the engine validates it,
// else SIMD128), 'simd128', or 'off' (the portable Go kernels). k.level is
// what was bound: 0 off, 1 SIMD128, 2 relaxed. load(name) returns a
// module's bytes (ArrayBuffer, typed array or Response) for hosts without
// fetch of the files beside this one (Node).
const levels = { off: 0, simd128: 1, relaxed: 2, auto: 2 };
const plain = ['sgemm', 'axpy', 'taps9rows', 'sqdist', 'sqdist_blocks_below', 'sscl', 'add', 'max', 'below', 'deinterleave', 'winograd_input', 'winograd_output'];
const fused = ['sgemm', 'axpy', 'taps9rows', 'sqdist']; // also bound as NAME_relaxed

export async function simdKernels(want = 'auto', load = fetchModule) {
  if (!(want in levels)) throw new Error(`simd: want auto, relaxed, simd128 or off, not ${JSON.stringify(want)}`);
  let level = levels[want];
  const modules = {};
  for (const [name, needs] of [['simd128', 1], ['relaxed', 2]]) {
    if (level < needs) break;
    const bytes = await asBytes(await load(name));
    // An engine without (relaxed) SIMD rejects the module: fall back a level.
    if (!WebAssembly.validate(bytes)) {
      level = needs - 1;
      break;
    }
    modules[name] = await WebAssembly.compile(bytes);
  }
  const targets = {};
  const imports = { level: () => level };
  const forward = (name) => {
    targets[name] = () => { throw new Error(`tessera_simd.${name}: not bound (SIMD ${level ? 'not attached' : 'off'})`); };
    // A fixed arity, the most any kernel takes (sgemm: 11): a rest
    // parameter would allocate on every call.
    imports[name] = (a, b, c, d, e, f, g, h, i, j, k) => targets[name](a, b, c, d, e, f, g, h, i, j, k);
  };
  plain.forEach(forward);
  fused.forEach((n) => forward(n + '_relaxed'));
  return {
    level,
    imports: { tessera_simd: imports },
    async attach(instance) {
      const env = { env: { mem: instance.exports.mem } };
      if (modules.simd128) {
        const s = (await WebAssembly.instantiate(modules.simd128, env)).exports;
        for (const n of plain) targets[n] = s[n];
        for (const n of fused) targets[n + '_relaxed'] = s[n];
      }
      if (modules.relaxed) {
        const r = (await WebAssembly.instantiate(modules.relaxed, env)).exports;
        for (const n of fused) targets[n + '_relaxed'] = r[n];
      }
    },
  };
}

// Literal URLs, so that bundlers find and copy the modules.
function fetchModule(name) {
  const url = name === 'relaxed'
    ? new URL('./tessera-simd-relaxed.wasm', import.meta.url)
    : new URL('./tessera-simd.wasm', import.meta.url);
  return fetch(url).then((r) => {
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r;
  });
}

async function asBytes(x) {
  if (typeof Response !== 'undefined' && x instanceof Response) x = await x.arrayBuffer();
  return x instanceof ArrayBuffer ? new Uint8Array(x) : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}
