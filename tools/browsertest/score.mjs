// Scores images in headless Chromium through the JS API on a bank saved
// earlier, with a given backend and CPU kernels (WebGPU is SwiftShader on
// machines without a GPU), so the scores can be set against another run's.
// usage: node score.mjs URL BANK BACKEND SIMD IMAGE... ; prints JSON.
import fs from 'node:fs';
import { runInPage } from './chromium.mjs';

const [url, bankPath, backend, simd, ...images] = process.argv.slice(2);
await runInPage(url, { webgpu: true }, async (page) => {
  const b64 = (p) => fs.readFileSync(p).toString('base64');
  return page.evaluate(async ({ bank, images, backend, simd }) => {
    const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const t = await window.Tessera.loadBank(bytes(bank), { model: 'weights/mobilenetv2-layer3.onnx', backend, simd });
    const scores = [], ms = [];
    for (const im of images) {
      const r = await t.predict(new Blob([bytes(im)]));
      scores.push(r.score);
      ms.push(r.ms);
    }
    t.cancel();
    return { engine: t.backend, scores, ms };
  }, { bank: b64(bankPath), images: images.map(b64), backend, simd });
});
