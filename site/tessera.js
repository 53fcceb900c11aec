// Tessera's JS API: PatchCore anomaly detection in the browser, offline.
// The engine runs in a Web Worker, so the page stays responsive.
//
//   const t = await Tessera.create({model: 'weights/mobilenetv2-layer3.onnx', backend: 'auto'});
//   await t.fit(images, {onProgress: (p) => console.log(p.stage, p.done, p.total)});
//   const r = await t.predict(image);  // {score, threshold, isAnomalous, map: {width, height, data}}
//   const bytes = await t.saveBank();  // Uint8Array, the same format as the native CLI's
//   const t2 = await Tessera.loadBank(bytes, {model});
//
// backend: 'webgpu' (navigator.gpu), 'cpu', or 'auto' (WebGPU on a real
// GPU, else the CPU); t.backend says which runs, and t.info.fallback why
// it is not the GPU. With 'auto', a GPU that fails mid-run (device lost,
// out of memory) is replaced by the CPU and the work goes on; t.backend
// changes then.
//
// Images may be Blob/File (decoded by the engine exactly as natively),
// ImageData, ImageBitmap, HTMLImageElement, HTMLCanvasElement or
// OffscreenCanvas.

export class Tessera {
  #worker;
  #next = 1;
  #pending = new Map();
  #ready;
  info = null;

  constructor(workerURL, simd = 'auto') {
    // Written out in full so bundlers see the worker and bundle it.
    this.#worker = workerURL
      ? new Worker(workerURL, { type: 'module' })
      : new Worker(new URL('./tessera-worker.js', import.meta.url), { type: 'module' });
    this.#worker.postMessage({ boot: { simd } });
    this.#ready = new Promise((resolve, reject) => {
      this.#worker.onmessage = (e) => {
        const m = e.data;
        if (m.ready) return resolve();
        if (m.fatal) return reject(new Error('Tessera engine failed to start: ' + m.fatal));
        const p = this.#pending.get(m.id);
        if (!p) return;
        if (m.progress) return p.onProgress?.(m.progress);
        this.#pending.delete(m.id);
        if (m.backend && this.info) Object.assign(this.info, { backend: m.backend, fallback: m.fallback });
        m.ok ? p.resolve(m.result) : p.reject(new Error(m.error));
      };
      this.#worker.onerror = (e) => reject(new Error('Tessera worker: ' + e.message));
    });
  }

  // Tessera.create loads a model: a URL, an ArrayBuffer or typed array, or a Blob.
  // simd: 'auto' (relaxed SIMD where the browser has it, else SIMD128),
  // 'relaxed', 'simd128' or 'off' (the portable kernels) for the CPU backend.
  static async create({ model, backend = 'auto', search = 'auto', simd = 'auto', name, workerURL } = {}) {
    const t = new Tessera(workerURL, simd);
    const { bytes, label } = await modelBytes(model, name);
    t.info = await t.#call('init', { model: bytes, name: label, backend, search }, null, [bytes]);
    return t;
  }

  // Tessera.loadBank makes a detector from saved bank bytes and its model.
  static async loadBank(bytes, { model, backend = 'auto', search = 'auto', simd = 'auto', name, workerURL } = {}) {
    const t = await Tessera.create({ model, backend, search, simd, name, workerURL });
    t.bank = await t.#call('loadBank', { bytes: await toBytes(bytes) });
    return t;
  }

  get backend() { return this.info?.backend; }

  async fit(images, { onProgress, coreset, k, dim, holdout } = {}) {
    const list = await Promise.all([...images].map((im, i) => imageMessage(im, i)));
    const result = await this.#call('fit', { images: list, options: { coreset, k, dim, holdout } }, onProgress);
    this.bank = result;
    return result;
  }

  async predict(image) {
    return this.#call('predict', { image: await imageMessage(image, 0) });
  }

  async saveBank() { return this.#call('saveBank', {}); }

  // benchBackbone times batch-1 forward passes: {medianMs, gflops, runs}.
  async benchBackbone(runs = 10) { return this.#call('benchBackbone', { runs }); }

  // cancel stops whatever runs now; the instance cannot be used afterwards.
  cancel() {
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(new Error('cancelled'));
    this.#pending.clear();
  }

  async #call(op, args, onProgress, transfer = []) {
    await this.#ready;
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#worker.postMessage({ id, op, args }, transfer);
    });
  }
}

async function modelBytes(model, name) {
  if (typeof model === 'string' || model instanceof URL) {
    // A failed write to the browser's HTTP cache fails the whole fetch
    // (ERR_CACHE_WRITE_FAILURE, seen with a full disk and with two fetches
    // of one gzipped model at once): fetch once more past the cache.
    const res = await fetch(model).catch(() => fetch(model, { cache: 'no-store' }));
    if (!res.ok) throw new Error(`model ${model}: HTTP ${res.status}`);
    return { bytes: await res.arrayBuffer(), label: name ?? String(model).split('/').pop() };
  }
  const bytes = await toBytes(model);
  return { bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), label: name ?? model?.name ?? 'model.onnx' };
}

async function toBytes(x) {
  if (x instanceof Blob) return new Uint8Array(await x.arrayBuffer());
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw new TypeError('expected a Blob, ArrayBuffer or typed array');
}

// imageMessage turns any supported image into what the engine takes:
// file bytes, or RGBA pixels.
async function imageMessage(im, i) {
  const name = im?.name ?? im?.src?.split('/').pop() ?? `image ${i + 1}`;
  if (im instanceof Blob) return { name, bytes: await im.arrayBuffer() };
  if (typeof ImageData !== 'undefined' && im instanceof ImageData) {
    return { name, pixels: { width: im.width, height: im.height, data: im.data } };
  }
  let source = im;
  if (typeof HTMLImageElement !== 'undefined' && im instanceof HTMLImageElement) {
    if (!im.complete) await im.decode();
    source = await createImageBitmap(im);
  }
  const w = source.width, h = source.height;
  if (!w || !h) throw new TypeError(`${name}: unsupported image (want Blob, ImageData, ImageBitmap, image or canvas)`);
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(source, 0, 0);
  const data = ctx.getImageData(0, 0, w, h);
  return { name, pixels: { width: w, height: h, data: data.data } };
}
