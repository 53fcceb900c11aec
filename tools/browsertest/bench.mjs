// Browser benchmark: for each model, in Debian's headless Chromium,
// Tessera's fit and predict times per image (an MVTec-layout category
// through the JS API), with the pruned search and with brute force, its
// backbone time, and ONNX Runtime Web's (wasm backend, same browser, same
// model, same single thread) for the ratio; then the backbone on the
// WebGPU backend (SwiftShader where there is no GPU: a correctness check,
// its time says nothing about GPUs).
// usage: node bench.mjs SITE_DIR WEIGHTS_DIR DATA_DIR MODEL...
// BENCH_TRAIN=N uses the first N training images, BENCH_TEST=N test images
// spread over the test set; BENCH_SEARCH=exact,brute
// the search modes to fit and predict with (both by default);
// BENCH_WEBGPU=0 and BENCH_ORT=0 leave those parts out. BENCH_WORKERS=N
// fits and predicts with a pool of N engines, and sets the pool's backbone
// throughput against ONNX Runtime Web with N threads (the page is served
// cross-origin isolated, which ONNX Runtime's threads need; Tessera's
// pool does not).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const [siteDir, weightsDir, dataDir, ...models] = process.argv.slice(2);
const ortDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules', 'onnxruntime-web', 'dist');
const types = { '.wasm': 'application/wasm', '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.onnx': 'application/octet-stream' };
const roots = { '/weights/': weightsDir, '/ort/': ortDir, '/data/': dataDir, '/': siteDir };
const server = http.createServer((req, res) => {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (url === '/bench.html') {
    res.setHeader('Content-Type', 'text/html');
    return res.end('<!doctype html><script src="wasm_exec.js"></script><script src="/ort/ort.wasm.min.js"></script><script type="module">import {Tessera} from "./tessera.js"; window.Tessera = Tessera; window.ready = true;</script>');
  }
  const prefix = Object.keys(roots).find((p) => url.startsWith(p));
  const file = path.join(roots[prefix], url.slice(prefix.length));
  fs.readFile(file, (err, data) => {
    if (err) { res.statusCode = 404; return res.end(); }
    res.setHeader('Content-Type', types[path.extname(file)] || 'application/octet-stream');
    res.end(data);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const list = (d) => fs.readdirSync(path.join(dataDir, d)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().map((f) => `/data/${d}/${f}`);
const train = list('train/good').slice(0, Number(process.env.BENCH_TRAIN) || undefined);
const allTest = fs.readdirSync(path.join(dataDir, 'test')).sort().flatMap((d) => list('test/' + d));
const nTest = Math.min(Number(process.env.BENCH_TEST) || allTest.length, allTest.length);
const test = Array.from({ length: nTest }, (_, i) => allTest[Math.floor(i * allTest.length / nTest)]);
const searches = (process.env.BENCH_SEARCH || 'exact,brute').split(',');
const withWebGPU = process.env.BENCH_WEBGPU !== '0', withORT = process.env.BENCH_ORT !== '0';
const workers = Number(process.env.BENCH_WORKERS) || 1;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const sizes = {};
for (const f of ['tessera.wasm', 'page.wasm']) {
  const b = fs.readFileSync(path.join(siteDir, f));
  sizes[f] = { raw: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length };
}
const results = [];
try {
  const page = await browser.newPage();
  await page.goto(base + '/bench.html');
  await page.waitForFunction(() => window.ready);
  for (const model of models) {
    const r = await page.evaluate(async ({ model, train, test, searches, withWebGPU, withORT, workers }) => {
      const blobs = async (urls) => Promise.all(urls.map(async (u) => new File([await (await fetch(u)).blob()], u.split('/').pop())));
      const trainFiles = await blobs(train), testFiles = await blobs(test);
      const out = { model, workers, fitImages: trainFiles.length, testImages: testFiles.length, search: {} };
      let t;
      for (const search of searches) {
        const t0 = performance.now();
        t = await window.Tessera.create({ model: '/weights/' + model, backend: 'cpu', search, workers });
        out.loadMs = performance.now() - t0;
        out.engine = t.backend;
        const f0 = performance.now();
        const fit = await t.fit(trainFiles);
        const fitMs = performance.now() - f0;
        const pred = [];
        const p0 = performance.now();
        // One at a time on one engine; a pool's worth at once on a pool.
        for (let i = 0; i < testFiles.length; i += workers) {
          const rs = await Promise.all(testFiles.slice(i, i + workers).map((f) => t.predict(f)));
          pred.push(...rs.map((r) => r.ms));
        }
        const predictMs = performance.now() - p0;
        pred.sort((a, b) => a - b);
        out.search[search] = {
          fitMs, fitMsPerImage: fitMs / trainFiles.length, bankSize: fit.bankSize, fitTimings: fit.timings,
          predictMedianMs: pred[pred.length >> 1], predictTotalMs: predictMs, predictPerImageMs: predictMs / testFiles.length,
        };
        if (search !== searches[searches.length - 1]) t.cancel();
      }
      // The backbone and ONNX Runtime Web (wasm backend, one thread, same
      // model and input size) take turns in three rounds of ten runs, so
      // that both see the machine alike: on a shared machine its speed
      // drifts over seconds. Figures are the medians of the rounds'
      // medians, the ratio the median of the rounds' ratios.
      let ortRun = null;
      if (withORT) {
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.wasmPaths = '/ort/';
        const s = await ort.InferenceSession.create('/weights/' + model, { executionProviders: ['wasm'] });
        const x = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).map((_, i) => (i % 17) / 8 - 1), [1, 3, 224, 224]);
        await s.run({ [s.inputNames[0]]: x });
        ortRun = () => s.run({ [s.inputNames[0]]: x });
      }
      const median = (v) => { const a = [...v].sort((p, q) => p - q); const n = a.length; return n % 2 ? a[n >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2; };
      const ours = [], theirs = [], ratios = [];
      let bb;
      for (let round = 0; round < 3; round++) {
        bb = await t.benchBackbone(10);
        ours.push(bb.medianMs);
        if (ortRun) {
          const ms = [];
          for (let i = 0; i < 10; i++) { const a = performance.now(); await ortRun(); ms.push(performance.now() - a); }
          theirs.push(median(ms));
          ratios.push(bb.medianMs / median(ms));
        }
      }
      Object.assign(out, { backboneMs: median(ours), gflops: bb.gflops, memoryMB: t.memoryBytes.map((b) => Math.round(b / 2 ** 20)) });
      Object.assign(out, { backboneRoundsMs: ours });
      if (ortRun) Object.assign(out, { ortWebMs: median(theirs), ortWebRoundsMs: theirs, ratio: median(ratios) });
      if (workers > 1) out.poolImagesPerSecond = (await t.benchBackbone(10, { allWorkers: true })).imagesPerSecond;
      t.cancel();
      if (withWebGPU) {
        const g = await window.Tessera.create({ model: '/weights/' + model, backend: 'webgpu' });
        const gb = await g.benchBackbone(3);
        g.cancel();
        Object.assign(out, { webgpuEngine: g.backend, webgpuBackboneMs: gb.medianMs });
      }
      return out;
    }, { model, train, test, searches, withWebGPU, withORT, workers });
    if (withORT && workers > 1) {
      // ONNX Runtime Web with as many threads as the pool has engines, in a
      // page of its own: its wasm reads numThreads once, when it starts.
      const p2 = await browser.newPage();
      await p2.goto(base + '/bench.html');
      await p2.waitForFunction(() => window.ready);
      Object.assign(r, await p2.evaluate(async ({ model, workers }) => {
        ort.env.wasm.numThreads = workers;
        ort.env.wasm.wasmPaths = '/ort/';
        const s = await ort.InferenceSession.create('/weights/' + model, { executionProviders: ['wasm'] });
        const x = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).map((_, i) => (i % 17) / 8 - 1), [1, 3, 224, 224]);
        await s.run({ [s.inputNames[0]]: x });
        const ms = [];
        for (let i = 0; i < 10; i++) { const a = performance.now(); await s.run({ [s.inputNames[0]]: x }); ms.push(performance.now() - a); }
        ms.sort((a, b) => a - b);
        return { ortWebThreadsMs: (ms[4] + ms[5]) / 2, crossOriginIsolated: self.crossOriginIsolated };
      }, { model, workers }));
      await p2.close();
    }
    results.push(r);
    for (const [search, x] of Object.entries(r.search)) {
      const ft = x.fitTimings;
      console.error(`${model} (${search} search, ${r.workers} worker${r.workers > 1 ? 's' : ''}): fit ${r.fitImages} images in ${(x.fitMs / 1e3).toFixed(1)} s (backbone ${(ft.backboneMs / 1e3).toFixed(1)}, coreset ${(ft.coresetMs / 1e3).toFixed(1)}, threshold search ${(ft.searchMs / 1e3).toFixed(1)} s), bank ${x.bankSize}; predict median ${x.predictMedianMs.toFixed(0)} ms/image, ${x.predictPerImageMs.toFixed(0)} ms/image of wall time`);
    }
    if (r.poolImagesPerSecond) {
      console.error(`${model}: pool of ${r.workers} backbone ${r.poolImagesPerSecond.toFixed(1)} images/s vs ONNX Runtime Web ${r.workers} threads ${(1000 / r.ortWebThreadsMs).toFixed(1)} images/s (${r.ortWebThreadsMs.toFixed(1)} ms, cross-origin isolated: ${r.crossOriginIsolated}); wasm memory per engine ${r.memoryMB.join(', ')} MB`);
    }
    console.error(`${model}: backbone ${r.backboneMs.toFixed(1)} ms` + (r.ortWebMs ? ` vs ONNX Runtime Web ${r.ortWebMs.toFixed(1)} ms (${r.ratio.toFixed(2)}x)` : '') + (r.webgpuEngine ? `; on ${r.webgpuEngine} ${r.webgpuBackboneMs.toFixed(0)} ms` : ''));
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify({ sizes, results }, null, 2));
