// C[M x N] = A[M x K] * B[K x N] (B rows ldb apart), then optionally
// + bias[row] and a clamp. 64x64 tiles of C per workgroup of 16x16
// threads, 4x4 outputs per thread, K in steps of 16 through shared memory.
struct P {
  M: u32, N: u32, K: u32, ldb: u32,
  aOff: u32, bOff: u32, cOff: u32, biasOff: u32,
  flags: u32, lo: f32, hi: f32, pad: u32,
}
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<uniform> p: P;

var<workgroup> As: array<array<f32, 64>, 16>;
var<workgroup> Bs: array<array<f32, 64>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 = k0 + 16u) {
    for (var i = 0u; i < 4u; i = i + 1u) {
      let idx = tid + i * 256u;
      let r = idx / 16u;
      let ka = idx % 16u;
      var av = 0.0;
      if (row0 + r < p.M && k0 + ka < p.K) {
        av = A[p.aOff + (row0 + r) * p.K + k0 + ka];
      }
      As[ka][r] = av;
      let kb = idx / 64u;
      let c = idx % 64u;
      var bv = 0.0;
      if (k0 + kb < p.K && col0 + c < p.N) {
        bv = B[p.bOff + (k0 + kb) * p.ldb + col0 + c];
      }
      Bs[kb][c] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) {
        a[i] = As[kk][lid.y * 4u + i];
        b[i] = Bs[kk][lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = row0 + lid.y * 4u + i;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let c = col0 + lid.x * 4u + j;
      if (c >= p.N) { continue; }
      var v = acc[i][j];
      if ((p.flags & 1u) != 0u) { v = v + bias[p.biasOff + r]; }
      if ((p.flags & 2u) != 0u) { v = min(max(v, p.lo), p.hi); }
      C[p.cOff + r * p.N + c] = v;
    }
  }
}
