// Drives Tessera's demo page in Debian's Chromium as a user would: load
// the default model, add good images, fit, add test images, read the
// scores, download the bank, and reload it through the JS API.
// usage: node e2e.mjs URL OUT_DIR BACKEND TRAIN_LIST TEST_LIST
// (the lists are files with one image path per line). Prints JSON.
import fs from 'node:fs';
import path from 'node:path';
import { launch, watch } from './chromium.mjs';

const [url, outDir, backend, trainList, testList] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);
const train = lines(trainList), test = lines(testList);
fs.mkdirSync(outDir, { recursive: true });

const browser = await launch({ webgpu: true });
const out = { backend };
const logs = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  watch(page, logs);
  const t0 = Date.now();
  await page.goto(url);
  await page.selectOption('#backend-select', backend);
  await page.waitForFunction(() => document.querySelector('#model-ready[data-ready="1"]') || /^Error/.test(document.querySelector('#status').textContent), null, { timeout: 120000 });
  const status = await page.textContent('#status');
  if (status.startsWith('Error')) throw new Error('loading the model: ' + status);
  out.readyMs = await page.evaluate(() => window.tesseraReadyMs);
  out.engine = await page.textContent('#backend');

  await page.setInputFiles('#train-input', train);
  const fitStart = Date.now();
  await page.click('#fit');
  await page.waitForFunction(() => /^(Fitted|Error)/.test(document.querySelector('#status').textContent), null, { timeout: 900000 });
  out.fitMs = Date.now() - fitStart;
  out.fitStatus = await page.textContent('#status');
  if (out.fitStatus.startsWith('Error')) throw new Error(out.fitStatus);

  const predStart = Date.now();
  await page.setInputFiles('#test-input', test);
  await page.waitForFunction((n) => window.tesseraResults.length >= n, test.length, { timeout: 900000 });
  out.predictMs = Date.now() - predStart;
  out.results = await page.evaluate(() => window.tesseraResults);
  out.heatmaps = await page.locator('canvas.heatmap').count();
  out.flagged = await page.locator('.card span.bad').count();
  out.screenshot = path.join(outDir, `page-${backend}.png`);
  await page.screenshot({ path: out.screenshot, fullPage: true });

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-bank')]);
  out.bank = path.join(outDir, `browser-${backend}.tbank`);
  await download.saveAs(out.bank);

  // The JS API on its own: reload the bank and score two test images.
  const b64 = (p) => fs.readFileSync(p).toString('base64');
  out.api = await page.evaluate(async ({ bank, images, backend }) => {
    const bytes = Uint8Array.from(atob(bank), (c) => c.charCodeAt(0));
    const t = await window.Tessera.loadBank(bytes, { model: 'weights/mobilenetv2-layer3.onnx', backend });
    const res = [];
    for (const im of images) {
      const blob = new Blob([Uint8Array.from(atob(im), (c) => c.charCodeAt(0))]);
      const r = await t.predict(blob);
      res.push({ score: r.score, isAnomalous: r.isAnomalous, mapSize: [r.map.width, r.map.height, r.map.data.length] });
    }
    t.cancel();
    return res;
  }, { bank: b64(out.bank), images: test.slice(0, 2).map(b64), backend });
  out.totalMs = Date.now() - t0;
} catch (e) {
  out.error = String(e.stack || e);
} finally {
  out.logs = logs.slice(-20);
  await browser.close();
}
console.log(JSON.stringify(out));
