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
