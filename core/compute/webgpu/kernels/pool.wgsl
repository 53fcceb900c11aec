// Max (kind 0) or average (kind 1) pooling over KH x KW windows; average
// divides by the window inside the input, or inside the padded input when
// countPad is set.
struct P {
  NC: u32, H: u32, W: u32, OH: u32,
  OW: u32, KH: u32, KW: u32, SH: u32,
  SW: u32, PT: u32, PL: u32, PB: u32,
  PR: u32, kind: u32, countPad: u32, total: u32,
}
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let idx = gid.x + gid.y * ng.x * 256u;
  if (idx >= p.total) { return; }
  let ohw = p.OH * p.OW;
  let nc = idx / ohw;
  let oy = (idx % ohw) / p.OW;
  let ox = idx % p.OW;
  let y0 = i32(oy * p.SH) - i32(p.PT);
  let x0 = i32(ox * p.SW) - i32(p.PL);
  let y1 = min(y0 + i32(p.KH), i32(p.H + p.PB));
  let x1 = min(x0 + i32(p.KW), i32(p.W + p.PR));
  let cy0 = max(y0, 0);
  let cx0 = max(x0, 0);
  let cy1 = min(y1, i32(p.H));
  let cx1 = min(x1, i32(p.W));
  var acc = 0.0;
  if (p.kind == 0u) { acc = -3.402823e38; }
  for (var y = cy0; y < cy1; y = y + 1) {
    for (var x = cx0; x < cx1; x = x + 1) {
      let v = X[(nc * p.H + u32(y)) * p.W + u32(x)];
      if (p.kind == 0u) { acc = max(acc, v); } else { acc = acc + v; }
    }
  }
  if (p.kind == 1u) {
    var cnt = (cy1 - cy0) * (cx1 - cx0);
    if (p.countPad != 0u) { cnt = (y1 - y0) * (x1 - x0); }
    acc = acc / f32(cnt);
  }
  Y[idx] = acc;
}
