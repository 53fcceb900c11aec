import { defineConfig } from 'vite';

export default defineConfig({
  // Served as published: pre-bundling would move tessera.js away from its
  // worker and wasm, which it finds relative to itself.
  optimizeDeps: { exclude: ['tessera-patchcore'] },
  build: { target: 'es2022' },
  worker: { format: 'es' },
});
