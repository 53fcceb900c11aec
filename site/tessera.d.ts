// Type declarations for Tessera's JS API (tessera.js). Every option and
// result the engine takes or gives is listed here; the worker protocol
// behind them is internal. Typed arrays carry their buffer type
// (TypeScript 5.7 and later).

/** Anything `fit` and `predict` take as an image. Blobs and Files are decoded by the engine (PNG, JPEG), exactly as natively. */
export type ImageInput =
  | Blob
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas;

/** A model: a URL to fetch, the file's bytes, or a Blob/File. */
export type ModelInput = string | URL | ArrayBuffer | ArrayBufferView | Blob;

/** Where the engine runs: `'webgpu'` (navigator.gpu, an error without it), `'cpu'`, or `'auto'` (WebGPU on a real GPU, else the CPU). */
export type Backend = 'auto' | 'webgpu' | 'cpu';

export interface CreateOptions {
  /** The ONNX backbone, e.g. `'weights/mobilenetv2-layer3.onnx'`. */
  model: ModelInput;
  /** Default `'auto'`. */
  backend?: Backend;
  /**
   * How patches find their nearest bank vectors: `'exact'` prunes with
   * principal-component bounds (the CPU), `'brute'` compares with the whole
   * bank, `'auto'` (default) prunes on the CPU and uses brute force on WebGPU.
   * All give the same scores, up to float rounding.
   */
  search?: 'auto' | 'exact' | 'brute';
  /**
   * The CPU backend's kernels: `'auto'` (default) and `'relaxed'` use relaxed
   * SIMD where the browser validates it, else SIMD128; `'simd128'` never
   * fuses; `'off'` runs the portable scalar kernels. Scores agree within 1e-5.
   */
  simd?: 'auto' | 'relaxed' | 'simd128' | 'off';
  /**
   * Engines (Web Workers, one Go instance each) on the CPU backend: the
   * backbone of a fit, its held-out scoring and predictions made together
   * run across them. Default: one per core, up to 4. On WebGPU there is one.
   */
  workers?: number;
  /** The model's name as recorded in banks (default: the URL's or file's last part). */
  name?: string;
  /** Where the worker script is, when it is served from somewhere other than beside tessera.js. */
  workerURL?: string | URL;
}

export interface EngineInfo {
  /** The backend that runs now, e.g. `'cpu (1 thread, wasm relaxed simd)'` or `'webgpu (...)'`. */
  backend: string;
  /** Why the backend is not the GPU (none found, software adapter, a GPU failure mid-run), or empty. */
  fallback?: string;
  /** The feature layers used, e.g. `['layer2', 'layer3']`. */
  layers: string[];
  /** The model's input: channels, height, width. */
  input: [number, number, number];
  /** Work per image, in GFLOP. */
  gflops: number;
  /** Engines running (see `CreateOptions.workers`). */
  workers?: number;
}

export interface Progress {
  /** `'backbone'`, `'coreset'` or `'threshold'`. */
  stage: 'backbone' | 'coreset' | 'threshold' | string;
  done: number;
  total: number;
}

export interface FitOptions {
  /** Called as each stage advances. */
  onProgress?: (p: Progress) => void;
  /** Fraction of patches kept in the memory bank (default 0.1; 1 keeps all). */
  coreset?: number;
  /** Nearest bank vectors averaged per patch score (default 1). */
  k?: number;
  /** Patch vector size, per layer and final (default 1024). */
  dim?: number;
  /** Fraction of the good images held out to set the threshold (default 0.1). */
  holdout?: number;
  /** Quantile of the held-out images' scores taken as the threshold (default 0.99). */
  quantile?: number;
  /**
   * The decision threshold set by hand. Without it the threshold comes from
   * the held-out images, and a fit that holds none out is an error.
   */
  threshold?: number;
  /**
   * How the saved bank stores its vectors: `'f32'` (default) or `'f16'`,
   * half the file. An f16 bank's vectors are rounded when chosen, so every
   * score is the one the saved bank gives.
   */
  bankPrecision?: 'f32' | 'f16';
}

export interface FitTimings {
  backboneMs: number;
  embedMs: number;
  coresetMs: number;
  searchMs: number;
}

export interface FitResult {
  /** Vectors in the memory bank. */
  bankSize: number;
  trainImages: number;
  trainPatches: number;
  /** Image scores above this are anomalous. */
  threshold: number;
  /** How the threshold was chosen. */
  thresholdRule: string;
  /** One message per image that could not be read (it was skipped). */
  failures: string[];
  ms: number;
  timings: FitTimings;
}

export interface BankInfo {
  bankSize: number;
  trainImages: number;
  threshold: number;
  /** The model the bank was made with. */
  model: string;
  /** When it was made (RFC 3339). */
  created: string;
}

export interface Prediction {
  /** Image score: the largest patch score (squared distance to the nearest bank vector). */
  score: number;
  threshold: number;
  isAnomalous: boolean;
  /** The anomaly map at the model's input size, row-major. */
  map: { width: number; height: number; data: Float32Array<ArrayBuffer> };
  /** The image with the heatmap blended in, RGBA, ready for `new ImageData(...)`. */
  overlay: { width: number; height: number; data: Uint8Array<ArrayBuffer> };
  ms: number;
}

export interface BenchResult {
  medianMs: number;
  gflops: number;
  runs: number;
}

export declare class Tessera {
  private constructor(workerURL?: string | URL, simd?: CreateOptions['simd']);
  /** Loads a model in a new Web Worker. */
  static create(options: CreateOptions): Promise<Tessera>;
  /** A detector from saved bank bytes and the model it was made with. */
  static loadBank(bytes: ArrayBuffer | ArrayBufferView | Blob, options: CreateOptions): Promise<Tessera>;
  /** What runs: backend, layers, input size; updated when a GPU fails and the CPU takes over. */
  info: EngineInfo | null;
  /** The bank fitted or loaded, once there is one. */
  bank?: FitResult | BankInfo;
  /** The backend that runs now (`info.backend`). */
  readonly backend: string | undefined;
  /** Engines running: one per Web Worker. */
  readonly workers: number;
  /** Each engine's wasm memory in bytes, as of its last reply: what the pool costs. */
  readonly memoryBytes: number[];
  /** Fits a memory bank on defect-free images. */
  fit(images: Iterable<ImageInput>, options?: FitOptions): Promise<FitResult>;
  /** Scores one image against the bank, on the least busy engine: calls made together run side by side. */
  predict(image: ImageInput): Promise<Prediction>;
  /** The bank as `.tbank` bytes, the same format as the native CLI's. */
  saveBank(): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Times batch-1 forward passes of the backbone; with `allWorkers`, on every
   * engine at once, adding `perWorkerMs` and `imagesPerSecond` (the pool's).
   */
  benchBackbone(runs?: number, options?: { allWorkers?: boolean }): Promise<BenchResult & { perWorkerMs?: number[]; imagesPerSecond?: number }>;
  /** Stops whatever runs now; the instance cannot be used afterwards. */
  cancel(): void;
}
