#!/usr/bin/env node
// Runs a Go js/wasm test binary in headless Chromium, where WebGPU exists
// (SwiftShader on machines without a GPU), the way Node runs it for
// `go test -exec`:
//
//	GOOS=js GOARCH=wasm go test -exec tools/browsertest/gotest.mjs ./core/compute/webgpu
//
// Pages have no file system, so the page gets a read-only one that asks
// this process for stat, readdir and file bytes: tests can read models and
// golden outputs from ../shared. Writes other than stdout and stderr fail
// with EROFS. The exit code is the test binary's.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launch } from './chromium.mjs';

const [wasmFile, ...args] = process.argv.slice(2);
if (!wasmFile) {
  console.error('usage: gotest.mjs TEST.wasm [ARGS...]');
  process.exit(2);
}
const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const simdDir = path.join(repo, 'core', 'compute', 'cpu', 'wasmsimd');
const goroot = process.env.GOROOT || execFileSync('go', ['env', 'GOROOT']).toString().trim();
// A loopback origin is a secure context, which WebGPU requires; no server
// listens there, every request is answered by serve below.
const origin = 'http://127.0.0.1:9';

// The environment the test sees: what `go test` passed us, minus what a
// page has no use for.
const env = {};
for (const [k, v] of Object.entries(process.env)) {
  if (/^(TESSERA_|CI$|GO|HOME$|PATH$|TMPDIR$)/.test(k)) env[k] = v;
}
// Chromium started with --enable-unsafe-webgpu always has an adapter
// (SwiftShader at worst): a test that finds none must fail, not skip.
env.TESSERA_REQUIRE_WEBGPU = '1';

const page_html = `<!doctype html><meta charset="utf-8"><script src="/fs.js"></script><script src="/wasm_exec.js"></script>`;

// The page side: a read-only fs backed by this process, and the runner.
function pageSide() {
  const err = (code) => Object.assign(new Error(code), { code });
  const files = new Map();
  let nextFd = 10;
  const decoders = [null, new TextDecoder(), new TextDecoder()];
  const ask = async (what, p) => {
    const r = await fetch(`/${what}?p=${encodeURIComponent(p)}`);
    if (!r.ok) throw err(await r.text());
    return what === 'read' ? new Uint8Array(await r.arrayBuffer()) : r.json();
  };
  const statObject = (s) => ({
    dev: 0, ino: 0, mode: s.mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size: s.size, blksize: 4096,
    blocks: Math.ceil(s.size / 512), atimeMs: s.mtimeMs, mtimeMs: s.mtimeMs, ctimeMs: s.mtimeMs,
    isDirectory: () => s.dir,
  });
  const cb = (promise, callback) => promise.then((v) => callback(null, v), (e) => callback(e));
  globalThis.fs = {
    constants: { O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_TRUNC: 512, O_APPEND: 1024, O_EXCL: 128, O_DIRECTORY: 65536 },
    writeSync(fd, buf) {
      if (fd !== 1 && fd !== 2) throw err('EBADF');
      window.goWrite(fd, decoders[fd].decode(buf, { stream: true }));
      return buf.length;
    },
    write(fd, buf, offset, length, position, callback) {
      try {
        callback(null, this.writeSync(fd, buf.subarray(offset, offset + length)));
      } catch (e) {
        callback(e);
      }
    },
    open(p, flags, mode, callback) {
      if (flags & (1 | 2 | 64 | 512 | 1024)) return callback(err('EROFS'));
      cb((async () => {
        const st = await ask('stat', p);
        const fd = nextFd++;
        files.set(fd, { path: p, st, data: st.dir ? null : await ask('read', p), pos: 0 });
        return fd;
      })(), callback);
    },
    fstat(fd, callback) {
      const f = files.get(fd);
      f ? callback(null, statObject(f.st)) : callback(err('EBADF'));
    },
    stat(p, callback) { cb(ask('stat', p).then(statObject), callback); },
    lstat(p, callback) { cb(ask('stat', p).then(statObject), callback); },
    readdir(p, callback) { cb(ask('readdir', p), callback); },
    read(fd, buffer, offset, length, position, callback) {
      const f = files.get(fd);
      if (!f || !f.data) return callback(err('EBADF'));
      const at = position === null ? f.pos : position;
      const chunk = f.data.subarray(at, Math.min(at + length, f.data.length));
      buffer.set(chunk, offset);
      if (position === null) f.pos += chunk.length;
      callback(null, chunk.length);
    },
    close(fd, callback) { files.delete(fd) ? callback(null) : callback(err('EBADF')); },
    fsync(fd, callback) { callback(null); },
  };
  for (const name of ['chmod', 'chown', 'fchmod', 'fchown', 'ftruncate', 'lchown', 'link', 'mkdir', 'readlink',
    'rename', 'rmdir', 'symlink', 'truncate', 'unlink', 'utimes']) {
    globalThis.fs[name] = (...a) => a[a.length - 1](err('EROFS'));
  }
  window.runGoTest = async (argv, env, cwd) => {
    globalThis.process = {
      getuid: () => -1, getgid: () => -1, geteuid: () => -1, getegid: () => -1, getgroups: () => [],
      pid: -1, ppid: -1, umask: () => 0o22, cwd: () => cwd, chdir: () => { throw err('ENOSYS'); },
    };
    const go = new Go();
    go.argv = argv;
    go.env = env;
    let code = 0;
    go.exit = (c) => { code = c; };
    // The CPU kernels' SIMD imports, as the engine's worker binds them.
    const { simdKernels } = await import('/tessera-simd.js');
    const kernels = await simdKernels(env.TESSERA_SIMD || 'auto');
    Object.assign(go.importObject, kernels.imports);
    // cogentcore/webgpu copies buffers through globalThis.wasm.instance.
    window.wasm = await WebAssembly.instantiateStreaming(fetch('/test.wasm'), go.importObject);
    await kernels.attach(window.wasm.instance);
    await go.run(window.wasm.instance);
    return code;
  };
}

function serve(route) {
  const u = new URL(route.request().url());
  const p = u.searchParams.get('p');
  const body = (b, contentType) => route.fulfill({ status: 200, contentType, body: b });
  const fail = (code) => route.fulfill({ status: 404, contentType: 'text/plain', body: code });
  try {
    switch (u.pathname) {
      case '/': return body(page_html, 'text/html');
      case '/fs.js': return body(`(${pageSide.toString()})();`, 'text/javascript');
      case '/wasm_exec.js': return body(fs.readFileSync(path.join(goroot, 'lib/wasm/wasm_exec.js')), 'text/javascript');
      case '/test.wasm': return body(fs.readFileSync(wasmFile), 'application/wasm');
      case '/tessera-simd.js': return body(fs.readFileSync(path.join(repo, 'site', 'tessera-simd.js')), 'text/javascript');
      case '/tessera-simd.wasm': return body(fs.readFileSync(path.join(simdDir, 'kernels.wasm')), 'application/wasm');
      case '/tessera-simd-relaxed.wasm': return body(fs.readFileSync(path.join(simdDir, 'kernels_relaxed.wasm')), 'application/wasm');
      case '/stat': {
        const s = fs.statSync(p);
        return body(JSON.stringify({ dir: s.isDirectory(), mode: s.mode, size: s.size, mtimeMs: Math.floor(s.mtimeMs) }), 'application/json');
      }
      case '/readdir': return body(JSON.stringify(fs.readdirSync(p)), 'application/json');
      case '/read': return body(fs.readFileSync(p), 'application/octet-stream');
    }
    return fail('ENOENT');
  } catch (e) {
    return fail(e.code === 'EISDIR' ? 'EISDIR' : e.code === 'EACCES' ? 'EACCES' : 'ENOENT');
  }
}

const browser = await launch({ webgpu: true });
let code = 1;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => {
    // A device's lost promise may settle after the test binary exited.
    if (!String(e).includes('Go program has already exited')) process.stderr.write(`page error: ${e.stack || e}\n`);
  });
  await page.exposeFunction('goWrite', (fd, text) => (fd === 1 ? process.stdout : process.stderr).write(text));
  await page.route(`${origin}/**`, serve);
  await page.goto(`${origin}/`);
  code = await page.evaluate(([argv, env, cwd]) => window.runGoTest(argv, env, cwd),
    [[path.basename(wasmFile), ...args], env, process.cwd()]);
  // Let the last exposed-function writes land before we exit.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
} catch (e) {
  process.stderr.write(`gotest.mjs: ${e.stack || e}\n`);
} finally {
  await browser.close();
}
process.exit(code);
