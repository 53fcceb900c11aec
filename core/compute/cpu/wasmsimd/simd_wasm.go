//go:build js && wasm

package wasmsimd

import "unsafe"

// Level is the best level the host bound, read once at start-up.
func Level() int { return level }

var level = int(hostLevel())

//go:wasmimport tessera_simd level
func hostLevel() int32

// Sgemm is the packed 6x16 micro-kernel (see gen.go): C[0:rows] (+)= A
// panel x B panel over k steps; flags bit 1 adds C, bit 2 adds bias[row]
// and clamps to [lo, hi]. relaxed picks the fused kernel. The caller has
// checked every bound.
func Sgemm(relaxed bool, k, rows int, a, b *float32, ldb int, c *float32, ldc int, flags int, bias *float32, lo, hi float32) {
	if relaxed {
		sgemmRelaxed(int32(k), unsafe.Pointer(a), unsafe.Pointer(b), int32(ldb), unsafe.Pointer(c), int32(ldc), int32(flags), unsafe.Pointer(bias), lo, hi, int32(rows))
		return
	}
	sgemm(int32(k), unsafe.Pointer(a), unsafe.Pointer(b), int32(ldb), unsafe.Pointer(c), int32(ldc), int32(flags), unsafe.Pointer(bias), lo, hi, int32(rows))
}

//go:wasmimport tessera_simd sgemm
//go:noescape
func sgemm(k int32, a, b unsafe.Pointer, ldb int32, c unsafe.Pointer, ldc int32, flags int32, bias unsafe.Pointer, lo, hi float32, rows int32)

//go:wasmimport tessera_simd sgemm_relaxed
//go:noescape
func sgemmRelaxed(k int32, a, b unsafe.Pointer, ldb int32, c unsafe.Pointer, ldc int32, flags int32, bias unsafe.Pointer, lo, hi float32, rows int32)

// Axpy sets y[i] += a*x[i] for i < n.
func Axpy(relaxed bool, a float32, x, y *float32, n int) {
	if relaxed {
		axpyRelaxed(a, unsafe.Pointer(x), unsafe.Pointer(y), int32(n))
		return
	}
	axpy(a, unsafe.Pointer(x), unsafe.Pointer(y), int32(n))
}

//go:wasmimport tessera_simd axpy
//go:noescape
func axpy(a float32, x, y unsafe.Pointer, n int32)

//go:wasmimport tessera_simd axpy_relaxed
//go:noescape
func axpyRelaxed(a float32, x, y unsafe.Pointer, n int32)

// Taps9Rows sets, over rows x cols (strides in elements), dst to the sum
// over t of w[t]*base[offs[t]+...], plus t, clamped to [lo, hi].
func Taps9Rows(relaxed bool, dst, base *float32, offs *[9]int, w *float32, rows, cols, dstStride, baseStride int, t, lo, hi float32) {
	if relaxed {
		taps9RowsRelaxed(unsafe.Pointer(dst), unsafe.Pointer(base), unsafe.Pointer(offs), unsafe.Pointer(w), int32(rows), int32(cols), int32(dstStride), int32(baseStride), t, lo, hi)
		return
	}
	taps9Rows(unsafe.Pointer(dst), unsafe.Pointer(base), unsafe.Pointer(offs), unsafe.Pointer(w), int32(rows), int32(cols), int32(dstStride), int32(baseStride), t, lo, hi)
}

//go:wasmimport tessera_simd taps9rows
//go:noescape
func taps9Rows(dst, base, offs, w unsafe.Pointer, rows, cols, dstStride, baseStride int32, t, lo, hi float32)

//go:wasmimport tessera_simd taps9rows_relaxed
//go:noescape
func taps9RowsRelaxed(dst, base, offs, w unsafe.Pointer, rows, cols, dstStride, baseStride int32, t, lo, hi float32)

// SqDist returns the squared distance between a[0:n] and b[0:n].
func SqDist(relaxed bool, a, b *float32, n int) float32 {
	if relaxed {
		return sqdistRelaxed(unsafe.Pointer(a), unsafe.Pointer(b), int32(n))
	}
	return sqdist(unsafe.Pointer(a), unsafe.Pointer(b), int32(n))
}

//go:wasmimport tessera_simd sqdist
//go:noescape
func sqdist(a, b unsafe.Pointer, n int32) float32

//go:wasmimport tessera_simd sqdist_relaxed
//go:noescape
func sqdistRelaxed(a, b unsafe.Pointer, n int32) float32

// SqDistBlocksBelow sets out[16b+m] to the squared distance between q[0:16]
// and row m of block b of blocks (16x16 values each, column-major), and bit
// m of the 16-bit masks[b] when out[16b+m]*scale < thr[16b+m], for b < nb.
func SqDistBlocksBelow(blocks, q, thr, out *float32, masks *uint16, nb int, scale float32) {
	sqdistBlocksBelow(unsafe.Pointer(blocks), unsafe.Pointer(q), unsafe.Pointer(out), int32(nb), unsafe.Pointer(thr), unsafe.Pointer(masks), scale)
}

//go:wasmimport tessera_simd sqdist_blocks_below
//go:noescape
func sqdistBlocksBelow(blocks, q, out unsafe.Pointer, nb int32, thr, masks unsafe.Pointer, scale float32)

// ScaleShiftClamp sets dst[i] = min(max(src[i]*s+t, lo), hi) for i < n.
func ScaleShiftClamp(dst, src *float32, n int, s, t, lo, hi float32) {
	sscl(unsafe.Pointer(dst), unsafe.Pointer(src), int32(n), s, t, lo, hi)
}

//go:wasmimport tessera_simd sscl
//go:noescape
func sscl(dst, src unsafe.Pointer, n int32, s, t, lo, hi float32)

// Add sets dst[i] = a[i] + b[i] for i < n.
func Add(dst, a, b *float32, n int) {
	add(unsafe.Pointer(dst), unsafe.Pointer(a), unsafe.Pointer(b), int32(n))
}

//go:wasmimport tessera_simd add
//go:noescape
func add(dst, a, b unsafe.Pointer, n int32)

// Below writes the indices i < n with x[i] < limit to dst, in order, and
// returns how many.
func Below(dst *int32, x *float32, n int, limit float32) int {
	return int(below(unsafe.Pointer(dst), unsafe.Pointer(x), int32(n), limit))
}

//go:wasmimport tessera_simd below
//go:noescape
func below(dst, x unsafe.Pointer, n int32, limit float32) int32

// Max sets dst to b where b > a or b is NaN, to a elsewhere, over n values.
func Max(dst, a, b *float32, n int) {
	maxOf(unsafe.Pointer(dst), unsafe.Pointer(a), unsafe.Pointer(b), int32(n))
}

//go:wasmimport tessera_simd max
//go:noescape
func maxOf(dst, a, b unsafe.Pointer, n int32)

// Deinterleave splits src[0:2*pairs] into even and odd elements.
func Deinterleave(even, odd, src *float32, pairs int) {
	deinterleave(unsafe.Pointer(even), unsafe.Pointer(odd), unsafe.Pointer(src), int32(pairs))
}

//go:wasmimport tessera_simd deinterleave
//go:noescape
func deinterleave(even, odd, src unsafe.Pointer, pairs int32)

// WinogradInput is vec.WinogradInputRow for 4*groups blocks.
func WinogradInput(dst *float32, stride int, src *float32, rowStride, groups int) {
	winogradInput(unsafe.Pointer(dst), int32(stride), unsafe.Pointer(src), int32(rowStride), int32(groups))
}

//go:wasmimport tessera_simd winograd_input
//go:noescape
func winogradInput(dst unsafe.Pointer, stride int32, src unsafe.Pointer, rowStride, groups int32)

// WinogradOutput is vec.WinogradOutputRow for 4*groups blocks (8*groups
// columns); flags bit 1 adds what dst holds.
func WinogradOutput(dst *float32, dstStride, rows int, m *float32, stride, groups int, bias float32, flags int, lo, hi float32) {
	winogradOutput(unsafe.Pointer(dst), int32(dstStride), int32(rows), unsafe.Pointer(m), int32(stride), int32(groups), bias, int32(flags), lo, hi)
}

//go:wasmimport tessera_simd winograd_output
//go:noescape
func winogradOutput(dst unsafe.Pointer, dstStride, rows int32, m unsafe.Pointer, stride, groups int32, bias float32, flags int32, lo, hi float32)
