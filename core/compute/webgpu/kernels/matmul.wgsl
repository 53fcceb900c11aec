// C[M x N] = A[M x K] * B[K x N], then optionally + bias[row] (flag 1)
// and a clamp (flag 2). TM is set by the host (4 or 8): a workgroup of
// 16x16 threads makes a (16*TM) x 64 tile of C, each thread TM rows by 4
// columns held as vec4s, K in steps of 16 through workgroup memory.
//
// B is either a matrix (conv 0: rows ldb apart from bOff) or, for a
// convolution (conv 1), the receptive fields of a batch of NCHW images
// read in place (an implicit GEMM: no im2col buffer): column j is output
// pixel j % OHW of image j / OHW, row k is input channel k / (KH*KW) at
// kernel offset k % (KH*KW); then C's column j is written to image
// j / OHW's output, whose channels are ldc planes apart.
struct P {
  M: u32, N: u32, K: u32, ldb: u32,
  aOff: u32, bOff: u32, cOff: u32, biasOff: u32,
  flags: u32, lo: f32, hi: f32, conv: u32,
  C: u32, H: u32, W: u32, KH: u32,
  KW: u32, SH: u32, SW: u32, DH: u32,
  DW: u32, PT: u32, PL: u32, OW: u32,
  OHW: u32, ldc: u32, pad0: u32, pad1: u32,
}
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> Cm: array<f32>;
@group(0) @binding(4) var<uniform> p: P;

// As[k * 4*TM + q] holds rows 4q..4q+3 of the tile at k; Bs[k * 16 + t],
// columns 4t..4t+3.
const AS: u32 = 64u * TM;
var<workgroup> As: array<vec4<f32>, AS>;
var<workgroup> Bs: array<vec4<f32>, 256>;
// For a convolution, the 16 rows of the current K step: the channel's
// offset in the image, the kernel offset's dy and dx, and whether the row
// is inside K; worked out once a step, not once for every value loaded.
var<workgroup> Kt: array<vec4<i32>, 16>;

// outIndex is where C's element (r, j) goes.
fn outIndex(r: u32, j: u32) -> u32 {
  if (p.conv == 0u) { return p.cOff + r * p.N + j; }
  let img = j / p.OHW;
  return p.cOff + (img * p.ldc + r) * p.OHW + j % p.OHW;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * 16u * TM;
  let col0 = wg.x * 64u;
  let tid = lid.y * 16u + lid.x;

  // Each thread loads the same column of every B tile: c = tid % 64,
  // rows tid / 64 + 4i. For a convolution its pixel is worked out once.
  let c = tid % 64u;
  let col = col0 + c;
  let colOK = col < p.N;
  var base = p.bOff;
  var iy0 = 0;
  var ix0 = 0;
  if (p.conv == 1u && colOK) {
    let img = col / p.OHW;
    let pix = col % p.OHW;
    base = p.bOff + img * p.C * p.H * p.W;
    iy0 = i32((pix / p.OW) * p.SH) - i32(p.PT);
    ix0 = i32((pix % p.OW) * p.SW) - i32(p.PL);
  }
  let kk2 = p.KH * p.KW;

  var acc: array<vec4<f32>, TM>;
  for (var k0 = 0u; k0 < p.K; k0 = k0 + 16u) {
    if (p.conv == 1u && tid < 16u) {
      let k = k0 + tid;
      let rem = k % kk2;
      Kt[tid] = vec4<i32>(i32((k / kk2) * p.H * p.W), i32((rem / p.KW) * p.DH), i32((rem % p.KW) * p.DW), select(0, 1, k < p.K));
    }
    workgroupBarrier();
    for (var i = 0u; i < TM; i = i + 1u) {
      let idx = tid + i * 256u;
      let r = idx / 16u;
      let ka = idx % 16u;
      var av = 0.0;
      if (row0 + r < p.M && k0 + ka < p.K) {
        av = A[p.aOff + (row0 + r) * p.K + k0 + ka];
      }
      As[ka * 4u * TM + r / 4u][r % 4u] = av;
    }
    for (var i = 0u; i < 4u; i = i + 1u) {
      let kb = tid / 64u + 4u * i;
      let k = k0 + kb;
      var bv = 0.0;
      if (p.conv == 0u) {
        if (k < p.K && colOK) { bv = B[p.bOff + k * p.ldb + col]; }
      } else if (colOK) {
        let t = Kt[kb];
        let iy = iy0 + t.y;
        let ix = ix0 + t.z;
        if (t.w == 1 && iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W)) {
          bv = B[base + u32(t.x + iy * i32(p.W) + ix)];
        }
      }
      Bs[kb * 16u + c / 4u][c % 4u] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      let b = Bs[kk * 16u + lid.x];
      for (var q = 0u; q < TM / 4u; q = q + 1u) {
        let a = As[kk * 4u * TM + lid.y * (TM / 4u) + q];
        acc[4u * q] = fma(vec4<f32>(a.x), b, acc[4u * q]);
        acc[4u * q + 1u] = fma(vec4<f32>(a.y), b, acc[4u * q + 1u]);
        acc[4u * q + 2u] = fma(vec4<f32>(a.z), b, acc[4u * q + 2u]);
        acc[4u * q + 3u] = fma(vec4<f32>(a.w), b, acc[4u * q + 3u]);
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i = i + 1u) {
    let r = row0 + lid.y * TM + i;
    if (r >= p.M) { break; }
    var v = acc[i];
    if ((p.flags & 1u) != 0u) { v = v + vec4<f32>(bias[p.biasOff + r]); }
    if ((p.flags & 2u) != 0u) { v = clamp(v, vec4<f32>(p.lo), vec4<f32>(p.hi)); }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let cj = col0 + lid.x * 4u + j;
      if (cj < p.N) { Cm[outIndex(r, cj)] = v[j]; }
    }
  }
}
