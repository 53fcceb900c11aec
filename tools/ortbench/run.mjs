// Runs a model with ONNX Runtime's CPU provider on one .npy input and
// writes every graph output to OUT_DIR/<name>.npy: the correctness
// reference for Tessera's tests.
// usage: node run.mjs MODEL.onnx INPUT.npy OUT_DIR
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const [model, input, outDir] = process.argv.slice(2);

function readNpy(file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: not float32`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(Boolean).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
  return { data, shape };
}

function writeNpy(file, data, dims) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  header += ' '.repeat(pad) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
const x = readNpy(input);
const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
fs.mkdirSync(outDir, { recursive: true });
for (const name of session.outputNames) {
  const t = result[name];
  writeNpy(path.join(outDir, name.replace(/[\/\\:]/g, '_') + '.npy'), t.data, t.dims);
}
