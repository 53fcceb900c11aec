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

// Engine is one Web Worker running one Go instance of the engine.
class Engine {
  #worker;
  #next = 1;
  #pending = new Map();
  ready;
  busy = 0; // requests in flight
  memoryBytes = 0; // its wasm memory, as of its last reply
  onStatus = null; // told {backend, fallback} with every reply

  constructor(workerURL, simd) {
    // Written out in full so bundlers see the worker and bundle it.
    this.#worker = workerURL
      ? new Worker(workerURL, { type: 'module' })
      : new Worker(new URL('./tessera-worker.js', import.meta.url), { type: 'module' });
    this.#worker.postMessage({ boot: { simd } });
    this.ready = new Promise((resolve, reject) => {
      this.#worker.onmessage = (e) => {
        const m = e.data;
        if (m.ready) return resolve();
        if (m.fatal) return reject(new Error('Tessera engine failed to start: ' + m.fatal));
        const p = this.#pending.get(m.id);
        if (!p) return;
        if (m.progress) return p.onProgress?.(m.progress);
        this.#pending.delete(m.id);
        this.busy--;
        if (m.memoryBytes) this.memoryBytes = m.memoryBytes;
        if (m.backend) this.onStatus?.({ backend: m.backend, fallback: m.fallback });
        m.ok ? p.resolve(m.result) : p.reject(new Error(m.error));
      };
      this.#worker.onerror = (e) => reject(new Error('Tessera worker: ' + e.message));
    });
  }

  async call(op, args, onProgress, transfer = []) {
    this.busy++; // before any await, so that a pick made right after sees it
    await this.ready;
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#worker.postMessage({ id, op, args }, transfer);
    });
  }

  terminate() {
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(new Error('cancelled'));
    this.#pending.clear();
  }
}

// defaultWorkers is one engine per core, up to 4: each holds the model,
// its activations and a copy of the bank.
function defaultWorkers() {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  return Math.max(1, Math.min(cores, 4));
}

// split cuts list into n contiguous runs, as even as can be.
function split(list, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(list.slice(Math.floor(i * list.length / n), Math.floor((i + 1) * list.length / n)));
  return out;
}

export class Tessera {
  // #engines[0] keeps the coreset; every engine holds the bank once there
  // is one, and predicts.
  #engines = [];
  info = null;

  constructor(workerURL, simd = 'auto') {
    this.#engines.push(this.#engine(workerURL, simd));
  }

  #engine(workerURL, simd) {
    const e = new Engine(workerURL, simd);
    e.onStatus = (s) => { if (this.info && e === this.#engines[0]) Object.assign(this.info, s); };
    return e;
  }

  // Tessera.create loads a model: a URL, an ArrayBuffer or typed array, or a Blob.
  // simd: 'auto' (relaxed SIMD where the browser has it, else SIMD128),
  // 'relaxed', 'simd128' or 'off' (the portable kernels) for the CPU backend.
  // workers: engines on the CPU backend (default: one per core, up to 4);
  // on WebGPU there is one.
  static async create({ model, backend = 'auto', search = 'auto', simd = 'auto', workers, name, workerURL } = {}) {
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) {
      throw new RangeError(`workers: want a whole number from 1 to 64, not ${workers}`);
    }
    const t = new Tessera(workerURL, simd);
    const { bytes, label } = await modelBytes(model, name);
    const primary = t.#engines[0];
    // The model's bytes are copied to every engine, not transferred.
    t.info = await primary.call('init', { model: bytes, name: label, backend, search });
    const n = t.info.backend.startsWith('cpu') ? (workers ?? defaultWorkers()) : 1;
    for (let i = 1; i < n; i++) t.#engines.push(t.#engine(workerURL, simd));
    try {
      await Promise.all(t.#engines.slice(1).map((e) => e.call('init', { model: bytes, name: label, backend: 'cpu', search })));
    } catch (err) {
      t.cancel();
      throw err;
    }
    t.info.workers = n;
    return t;
  }

  // Tessera.loadBank makes a detector from saved bank bytes and its model.
  static async loadBank(bytes, { model, backend = 'auto', search = 'auto', simd = 'auto', workers, name, workerURL } = {}) {
    const t = await Tessera.create({ model, backend, search, simd, workers, name, workerURL });
    const b = await toBytes(bytes);
    const all = await Promise.all(t.#engines.map((e) => e.call('loadBank', { bytes: b })));
    t.bank = all[0];
    return t;
  }

  get backend() { return this.info?.backend; }

  // workers is the number of engines running.
  get workers() { return this.#engines.length; }

  // memoryBytes is each engine's wasm memory, as of its last reply.
  get memoryBytes() { return this.#engines.map((e) => e.memoryBytes); }

  async fit(images, { onProgress, coreset, k, dim, holdout, quantile, threshold, bankPrecision, seed } = {}) {
    const list = await Promise.all([...images].map((im, i) => imageMessage(im, i)));
    const options = { coreset, k, dim, holdout, quantile, threshold, bankPrecision, seed };
    const result = this.#engines.length === 1
      ? await this.#engines[0].call('fit', { images: list, options }, onProgress)
      : await this.#fitPool(list, options, onProgress);
    this.bank = result;
    return result;
  }

  // #fitPool runs Fit's steps over every engine: the training images'
  // backbone and embedding split among them, the coreset on the first,
  // the held-out scoring split again. The bank is the one a single
  // engine makes (the parts are joined in image order).
  async #fitPool(list, options, onProgress) {
    const t0 = performance.now();
    const engines = this.#engines, primary = engines[0];
    const plan = await primary.call('plan', { count: list.length, options });
    const train = plan.train.map((i) => list[i]), hold = plan.hold.map((i) => list[i]);
    const shared = (stage, total, parts) => {
      const done = parts.map(() => 0);
      return parts.map((_, w) => (p) => {
        done[w] = p.done;
        onProgress?.({ stage, done: done.reduce((a, b) => a + b, 0), total });
      });
    };
    const trainParts = split(train, engines.length);
    const tell = shared('backbone', train.length, trainParts);
    const feats = await Promise.all(trainParts.map((part, w) => engines[w].call('embed', { images: part, options }, tell[w])));
    const built = await primary.call('bankFromFeatures', {
      options,
      parts: feats.map((f) => ({ vectors: f.vectors, images: f.images, gridH: f.gridH, gridW: f.gridW })),
    }, onProgress, feats.map((f) => f.vectors.buffer));
    await Promise.all(engines.slice(1).map((e) => e.call('loadBank', { bytes: built.bank })));
    const holdParts = split(hold, engines.length);
    const tellHold = shared('threshold', hold.length, holdParts);
    const scored = await Promise.all(holdParts.map((part, w) => engines[w].call('scoreHeldOut', { images: part, options }, tellHold[w])));
    const scores = scored.flatMap((s) => s.scores);
    const summaries = await Promise.all(engines.map((e) => e.call('setThreshold', { scores, options })));
    // Stages ran side by side: each time is the slowest engine's.
    const slowest = (parts, key) => Math.max(0, ...parts.map((p) => p.timings[key]));
    return {
      ...summaries[0],
      failures: [...feats, ...scored].flatMap((p) => p.failures),
      ms: performance.now() - t0,
      timings: {
        backboneMs: slowest(feats, 'backboneMs') + slowest(scored, 'backboneMs'),
        embedMs: slowest(feats, 'embedMs') + slowest(scored, 'embedMs'),
        coresetMs: built.timings.coresetMs,
        searchMs: slowest(scored, 'searchMs'),
      },
      workers: engines.length,
    };
  }

  // predict scores one image on the least busy engine, so that calls made
  // together (Promise.all) run side by side.
  async predict(image) {
    const msg = await imageMessage(image, 0);
    const e = this.#engines.reduce((a, b) => (b.busy < a.busy ? b : a));
    return e.call('predict', { image: msg });
  }

  async saveBank() { return this.#engines[0].call('saveBank', {}); }

  // benchBackbone times batch-1 forward passes: {medianMs, gflops, runs}.
  // With {allWorkers: true} every engine runs at once, and imagesPerSecond
  // is their sum: the pool's throughput on multi-image work.
  async benchBackbone(runs = 10, { allWorkers = false } = {}) {
    if (!allWorkers) return this.#engines[0].call('benchBackbone', { runs });
    const all = await Promise.all(this.#engines.map((e) => e.call('benchBackbone', { runs })));
    return { ...all[0], perWorkerMs: all.map((r) => r.medianMs), imagesPerSecond: all.reduce((s, r) => s + 1000 / r.medianMs, 0) };
  }

  // cancel stops whatever runs now; the instance cannot be used afterwards.
  cancel() {
    for (const e of this.#engines) e.terminate();
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
