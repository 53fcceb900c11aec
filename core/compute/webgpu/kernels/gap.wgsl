// Global average pooling: the mean of each of NC planes.
struct P { NC: u32, plane: u32, pad0: u32, pad1: u32, }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let idx = gid.x + gid.y * ng.x * 256u;
  if (idx >= p.NC) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.plane; i = i + 1u) { s = s + X[idx * p.plane + i]; }
  Y[idx] = s / f32(p.plane);
}
