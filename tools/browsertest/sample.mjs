// Drives the demo page as a first visitor would: wait for the default
// model, press "Try the sample", wait for every sample test image to be
// scored, and take a screenshot.
// usage: node sample.mjs URL SCREENSHOT.png. Prints JSON.
import { launch, watch } from './chromium.mjs';

const [url, screenshot] = process.argv.slice(2);
const browser = await launch();
const out = {};
const logs = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  watch(page, logs);
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#model-ready[data-ready="1"]') || /^(Error|No model)/.test(document.querySelector('#status').textContent), null, { timeout: 120000 });
  out.readyMs = Date.now() - t0;
  out.engine = await page.textContent('#backend');
  out.model = await page.inputValue('#model-select');
  const status = await page.textContent('#status');
  if (!status.startsWith('Model')) throw new Error('loading the default model: ' + status);
  const total = await page.evaluate(async () => (await (await fetch('sample/index.json')).json()).test.length);
  const start = Date.now();
  await page.click('#try-sample');
  await page.waitForFunction((n) => window.tesseraResults.length >= n || /^Error/.test(document.querySelector('#status').textContent), total, { timeout: 600000 });
  out.sampleMs = Date.now() - start;
  out.status = await page.textContent('#status');
  if (out.status.startsWith('Error')) throw new Error(out.status);
  out.results = await page.evaluate(() => window.tesseraResults);
  out.heatmaps = await page.locator('canvas.heatmap').count();
  out.flagged = await page.locator('.card span.bad').count();
  out.summary = await page.textContent('#summary');
  out.screenshot = screenshot;
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  out.error = String(e.stack || e);
} finally {
  out.logs = logs.slice(-20);
  await browser.close();
}
console.log(JSON.stringify(out));
