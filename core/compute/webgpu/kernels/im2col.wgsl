// The receptive fields of one C x H x W image (at inOff) as a
// (C*KH*KW) x (OH*OW) matrix, zero where a window reaches into padding.
struct P {
  C: u32, H: u32, W: u32, KH: u32,
  KW: u32, SH: u32, SW: u32, DH: u32,
  DW: u32, PT: u32, PL: u32, OH: u32,
  OW: u32, inOff: u32, total: u32, pad: u32,
}
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let idx = gid.x + gid.y * ng.x * 256u;
  if (idx >= p.total) { return; }
  let ohw = p.OH * p.OW;
  let r = idx / ohw;
  let j = idx % ohw;
  let ch = r / (p.KH * p.KW);
  let ky = (r / p.KW) % p.KH;
  let kx = r % p.KW;
  let oy = j / p.OW;
  let ox = j % p.OW;
  let iy = i32(oy * p.SH + ky * p.DH) - i32(p.PT);
  let ix = i32(ox * p.SW + kx * p.DW) - i32(p.PL);
  var v = 0.0;
  if (iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W)) {
    v = X[p.inOff + (ch * p.H + u32(iy)) * p.W + u32(ix)];
  }
  Y[idx] = v;
}
