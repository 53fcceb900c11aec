// The transpose of an R x C matrix.
struct P { R: u32, C: u32, pad0: u32, pad1: u32, }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let idx = gid.x + gid.y * ng.x * 256u;
  if (idx >= p.R * p.C) { return; }
  let i = idx / p.C;
  let j = idx % p.C;
  Y[j * p.R + i] = X[idx];
}
