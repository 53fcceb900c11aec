// Depthwise convolution: each channel with its own KH x KW filter, plus
// bias and an optional clamp. One invocation per output value.
struct P {
  C: u32, H: u32, W: u32, KH: u32,
  KW: u32, SH: u32, SW: u32, DH: u32,
  DW: u32, PT: u32, PL: u32, OH: u32,
  OW: u32, total: u32, flags: u32, pad: u32,
  lo: f32, hi: f32, pad2: u32, pad3: u32,
}
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> Wt: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> p: P;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let idx = gid.x + gid.y * ng.x * 256u;
  if (idx >= p.total) { return; }
  let ohw = p.OH * p.OW;
  let nc = idx / ohw;
  let ch = nc % p.C;
  let oy = (idx % ohw) / p.OW;
  let ox = idx % p.OW;
  var s = bias[ch];
  for (var ky = 0u; ky < p.KH; ky = ky + 1u) {
    let iy = i32(oy * p.SH + ky * p.DH) - i32(p.PT);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    for (var kx = 0u; kx < p.KW; kx = kx + 1u) {
      let ix = i32(ox * p.SW + kx * p.DW) - i32(p.PL);
      if (ix < 0 || ix >= i32(p.W)) { continue; }
      s = fma(X[(nc * p.H + u32(iy)) * p.W + u32(ix)], Wt[(ch * p.KH + ky) * p.KW + kx], s);
    }
  }
  if ((p.flags & 2u) != 0u) { s = min(max(s, p.lo), p.hi); }
  Y[idx] = s;
}
