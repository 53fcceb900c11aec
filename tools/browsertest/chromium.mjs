// The one way the browser scripts start Debian's Chromium and watch a
// page, so their flags and logs stay alike.
import { chromium } from 'playwright-core';

// launch starts headless Chromium ($CHROMIUM, else /usr/bin/chromium);
// webgpu adds --enable-unsafe-webgpu.
export function launch({ webgpu = false } = {}) {
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
}

// watch collects a page's console, uncaught errors and failed requests
// into logs, for the report of a failure.
export function watch(page, logs) {
  page.on('console', (m) => logs.push(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push('pageerror: ' + e.message));
  page.on('requestfailed', (r) => logs.push(`request failed: ${r.url()}: ${r.failure()?.errorText}`));
}

// runInPage is the frame of the JS API scripts: it opens url in a new
// headless Chromium, waits for window.Tessera, merges what fn(page)
// returns into the output and prints it as JSON; on a failure the output
// is {error, logs}.
export async function runInPage(url, { webgpu = false } = {}, fn) {
  const browser = await launch({ webgpu });
  const out = {};
  const logs = [];
  try {
    const page = await browser.newPage();
    watch(page, logs);
    await page.goto(url);
    await page.waitForFunction(() => window.Tessera);
    Object.assign(out, await fn(page));
  } catch (e) {
    out.error = String(e.stack || e);
    out.logs = logs;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}
