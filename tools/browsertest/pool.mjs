// Fits the same images through the JS API with one engine and with a pool
// of engines, in headless Chromium, and scores the same test images with
// both (the pool's all at once): the pool must make the same bank and the
// same scores. Reports the times and each engine's wasm memory.
// usage: node pool.mjs URL WORKERS TRAIN_LIST TEST_LIST [BANK_PRECISION] ;
// prints JSON.
import fs from 'node:fs';
import { runInPage } from './chromium.mjs';

const [url, workers, trainList, testList, bankPrecision] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);
const b64 = (p) => fs.readFileSync(p).toString('base64');
await runInPage(url, { webgpu: false }, async (page) => {
  return page.evaluate(async ({ workers, train, test, bankPrecision }) => {
    const file = (s, i) => new File([Uint8Array.from(atob(s), (c) => c.charCodeAt(0))], `image ${i}.jpg`);
    const trainFiles = train.map(file), testFiles = test.map(file);
    const runs = {};
    let badOption = '';
    for (const n of [1, workers]) {
      const t = await window.Tessera.create({ model: 'weights/mobilenetv2-layer3.onnx', backend: 'cpu', workers: n });
      // An option of the wrong type is refused by name, by one engine and by the pool.
      badOption += await t.fit(trainFiles.slice(0, 2), { k: 'three' }).then(() => 'accepted;', (e) => e.message + ';');
      const t0 = performance.now();
      const fit = await t.fit(trainFiles, { bankPrecision });
      const fitMs = performance.now() - t0;
      const p0 = performance.now();
      // All at once: the pool spreads them over its engines.
      const preds = await Promise.all(testFiles.map((f) => t.predict(f)));
      const predictMs = performance.now() - p0;
      const bench = await t.benchBackbone(5, { allWorkers: true });
      runs[n] = {
        workers: t.workers, engine: t.backend, fitMs, predictMs, bankSize: fit.bankSize, threshold: fit.threshold,
        trainImages: fit.trainImages, scores: preds.map((r) => r.score), predictEach: preds.map((r) => r.ms), memoryBytes: t.memoryBytes,
        imagesPerSecond: bench.imagesPerSecond, timings: fit.timings, bankBytes: (await t.saveBank()).length,
      };
      t.cancel();
    }
    return { runs, badOption };
  }, { workers: Number(workers), train: lines(trainList).map(b64), test: lines(testList).map(b64), bankPrecision });
});
