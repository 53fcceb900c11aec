// The whole integration: import the package, create a detector, fit on
// good images, score new ones. Vite bundles the worker and emits the wasm;
// `tsc --noEmit` checks this file against the package's declarations.
import { Tessera, type FitResult, type Prediction } from 'tessera-patchcore';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string) => { $('status').textContent = s; };

const tessera = await Tessera.create({ model: '/mobilenetv2-layer3.onnx', backend: 'auto' });
$('engine').textContent = tessera.backend ?? '?';
$<HTMLButtonElement>('fit').disabled = false;
status('Ready: pick good images and fit.');

$('fit').onclick = async () => {
  const files = [...($<HTMLInputElement>('good').files ?? [])];
  if (!files.length) return status('Pick some good images first.');
  $<HTMLButtonElement>('fit').disabled = true;
  try {
    const r: FitResult = await tessera.fit(files, {
      coreset: 0.1,
      onProgress: (p) => status(`${p.stage} ${p.done}/${p.total}`),
    });
    status(`Fitted: ${r.bankSize} vectors from ${r.trainImages} images, threshold ${r.threshold.toFixed(1)}.`);
    $<HTMLInputElement>('test').disabled = false;
  } catch (e) {
    status('Error: ' + (e as Error).message);
  } finally {
    $<HTMLButtonElement>('fit').disabled = false;
  }
};

$('test').onchange = async () => {
  for (const file of $<HTMLInputElement>('test').files ?? []) {
    const r: Prediction = await tessera.predict(file);
    const fig = document.createElement('figure');
    const canvas = document.createElement('canvas');
    const { width, height, data } = r.overlay;
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), width, height), 0, 0);
    const cap = document.createElement('figcaption');
    cap.className = r.isAnomalous ? 'bad' : 'good';
    cap.textContent = `${file.name}: ${r.score.toFixed(1)} ${r.isAnomalous ? 'anomalous' : 'good'}`;
    cap.dataset.score = String(r.score);
    fig.append(canvas, cap);
    $('results').append(fig);
  }
  status(`Scored ${$('results').children.length} images.`);
};
