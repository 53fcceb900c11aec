// Uses the example Vite app (built from the packed npm package) as a user
// would: pick good images, fit, pick test images, read the verdicts.
// usage: node vite.mjs URL TRAIN_LIST TEST_LIST SCREENSHOT.png. Prints JSON.
import fs from 'node:fs';
import { launch, watch } from './chromium.mjs';

const [url, trainList, testList, screenshot] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);
const train = lines(trainList), test = lines(testList);
const browser = await launch();
const out = {};
const logs = [];
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  watch(page, logs);
  await page.goto(url);
  await page.waitForFunction(() => /^(Ready|Error)/.test(document.querySelector('#status').textContent), null, { timeout: 120000 });
  out.engine = await page.textContent('#engine');
  await page.setInputFiles('#good', train);
  await page.click('#fit');
  await page.waitForFunction(() => /^(Fitted|Error)/.test(document.querySelector('#status').textContent), null, { timeout: 600000 });
  out.fitStatus = await page.textContent('#status');
  if (!out.fitStatus.startsWith('Fitted')) throw new Error(out.fitStatus);
  await page.setInputFiles('#test', test);
  await page.waitForFunction((n) => document.querySelectorAll('figcaption').length >= n, test.length, { timeout: 600000 });
  out.results = await page.$$eval('figcaption', (els) => els.map((e) => ({ text: e.textContent, score: Number(e.dataset.score), anomalous: e.className === 'bad' })));
  await page.screenshot({ path: screenshot, fullPage: true });
  out.screenshot = screenshot;
} catch (e) {
  out.error = String(e.stack || e);
} finally {
  out.logs = logs.slice(-20);
  await browser.close();
}
console.log(JSON.stringify(out));
