// out = a + b or a * b with numpy broadcasting, up to 4 dimensions: the
// strides of a dimension along which an operand is broadcast are 0.
struct P {
  d0: u32, d1: u32, d2: u32, d3: u32,
  a0: u32, a1: u32, a2: u32, a3: u32,
  b0: u32, b1: u32, b2: u32, b3: u32,
  total: u32, op: u32, pad0: u32, pad1: u32,
}
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let idx = gid.x + gid.y * ng.x * 256u;
  if (idx >= p.total) { return; }
  let i3 = idx % p.d3;
  let i2 = (idx / p.d3) % p.d2;
  let i1 = (idx / (p.d3 * p.d2)) % p.d1;
  let i0 = idx / (p.d3 * p.d2 * p.d1);
  let a = A[i0 * p.a0 + i1 * p.a1 + i2 * p.a2 + i3 * p.a3];
  let b = B[i0 * p.b0 + i1 * p.b1 + i2 * p.b2 + i3 * p.b3];
  if (p.op == 1u) { Y[idx] = a * b; } else { Y[idx] = a + b; }
}
