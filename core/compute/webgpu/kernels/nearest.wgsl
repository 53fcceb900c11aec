// For each query column q of the rows x nq dot-product matrix D, the k
// smallest |b_r|^2 - 2 D[r][q] over the chunk's rows and the k already in
// best (none for the first chunk), ascending (k <= 16): run once per bank
// chunk, best ends with the k smallest over the whole bank.
struct P { rows: u32, nq: u32, k: u32, normOff: u32, first: u32, }
@group(0) @binding(0) var<storage, read> D: array<f32>;
@group(0) @binding(1) var<storage, read> norms: array<f32>;
@group(0) @binding(2) var<storage, read_write> best: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let q = gid.x + gid.y * ng.x * 256u;
  if (q >= p.nq) { return; }
  var top: array<f32, 16>;
  for (var i = 0u; i < 16u; i = i + 1u) { top[i] = 3.402823e38; }
  if (p.first == 0u) {
    for (var i = 0u; i < p.k; i = i + 1u) { top[i] = best[q * p.k + i]; }
  }
  for (var r = 0u; r < p.rows; r = r + 1u) {
    var v = norms[p.normOff + r] - 2.0 * D[r * p.nq + q];
    if (v >= top[p.k - 1u]) { continue; }
    var i = p.k - 1u;
    loop {
      if (i == 0u || top[i - 1u] <= v) { break; }
      top[i] = top[i - 1u];
      i = i - 1u;
    }
    top[i] = v;
  }
  for (var i = 0u; i < p.k; i = i + 1u) { best[q * p.k + i] = top[i]; }
}
