// Times ONNX Runtime's CPU provider on one model, batch input of the given
// shape, and prints {"median_ms": ...} as JSON.
// usage: node bench.mjs MODEL.onnx RUNS THREADS N,C,H,W
import ort from 'onnxruntime-node';

const [model, runsArg, threadsArg, dimsArg] = process.argv.slice(2);
const runs = Number(runsArg || 30);
const threads = Number(threadsArg || 2);
const dims = (dimsArg || '1,3,224,224').split(',').map(Number);

const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
});
const size = dims.reduce((a, b) => a * b, 1);
const data = new Float32Array(size);
let seed = 1;
for (let i = 0; i < size; i++) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  data[i] = (seed / 2147483648) * 4 - 2;
}
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
for (let i = 0; i < 3; i++) await session.run(feeds);
const ms = [];
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  await session.run(feeds);
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
ms.sort((a, b) => a - b);
const n = ms.length;
const median = n % 2 ? ms[(n - 1) / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
console.log(JSON.stringify({ median_ms: median, runs: n, threads }));
