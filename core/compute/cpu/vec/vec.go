// Package vec holds the element-wise loops the CPU backend spends its
// non-GEMM time in, with AVX-512 or AVX2 versions on amd64 (chosen from
// CPUID), the wasm SIMD module's under js/wasm and Go versions elsewhere.
package vec

import "math"

// Axpy sets y[i] += a*x[i] for i < len(y); x must be at least as long.
func Axpy(a float32, x, y []float32) {
	if len(y) == 0 {
		return
	}
	_ = x[len(y)-1]
	axpy(a, x, y)
}

// ScaleShiftClamp sets dst[i] = min(max(src[i]*s+t, lo), hi); dst and src
// have the same length and may be the same slice.
func ScaleShiftClamp(dst, src []float32, s, t, lo, hi float32) {
	if len(dst) == 0 {
		return
	}
	_ = src[len(dst)-1]
	scaleShiftClamp(dst, src, s, t, lo, hi)
}

// Add sets dst[i] = a[i] + b[i]; all have the same length.
func Add(dst, a, b []float32) {
	if len(dst) == 0 {
		return
	}
	_, _ = a[len(dst)-1], b[len(dst)-1]
	add(dst, a, b)
}

func axpyGo(a float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

func scaleShiftClampGo(dst, src []float32, s, t, lo, hi float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = min(max(v*s+t, lo), hi)
	}
}

func addGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// Max sets dst[i] to b[i] where b[i] > a[i] or b[i] is NaN, to a[i]
// elsewhere: a max pool's step, NaN carried through from either side; all
// have the same length.
func Max(dst, a, b []float32) {
	if len(dst) == 0 {
		return
	}
	_, _ = a[len(dst)-1], b[len(dst)-1]
	maxOf(dst, a, b)
}

func maxGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		m, v := a[i], b[i]
		if v > m || v != v {
			m = v
		}
		dst[i] = m
	}
}

// Deinterleave splits src into its even-indexed elements (to even) and
// odd-indexed elements (to odd); even needs (len(src)+1)/2 room and odd
// len(src)/2.
func Deinterleave(even, odd, src []float32) {
	pairs := len(src) / 2
	if pairs > 0 {
		_, _ = even[pairs-1], odd[pairs-1]
		deinterleave(even, odd, src[:2*pairs])
	}
	if len(src)%2 == 1 {
		even[pairs] = src[len(src)-1]
	}
}

// ScaleShiftClampRows is ScaleShiftClamp over a rows x cols block whose
// rows start dstStride and srcStride elements apart.
func ScaleShiftClampRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, s, t, lo, hi float32) {
	if rows == 0 || cols == 0 {
		return
	}
	_ = dst[(rows-1)*dstStride+cols-1]
	_ = src[(rows-1)*srcStride+cols-1]
	scaleShiftClampRows(dst, dstStride, src, srcStride, rows, cols, s, t, lo, hi)
}

func deinterleaveGo(even, odd, src []float32) {
	for i := 0; i+1 < len(src); i += 2 {
		even[i/2] = src[i]
		odd[i/2] = src[i+1]
	}
}

func scaleShiftClampRowsGo(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, s, t, lo, hi float32) {
	for r := 0; r < rows; r++ {
		scaleShiftClamp(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:r*srcStride+cols], s, t, lo, hi)
	}
}

// SqDist returns the squared Euclidean distance between a and b, which
// have the same length.
func SqDist(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	_ = b[len(a)-1]
	return sqDist(a, b)
}

func sqDistGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return s0 + s1 + s2 + s3
}

// Block is how many rows a block of SqDistBlocksBelow holds, and how many
// values each row has.
const Block = 16

// sqDistBlocksGo is SqDistBlocksBelow's distances without the masks, in
// Go: the fallback's first half.
func sqDistBlocksGo(blocks, q, out []float32) {
	for b := 0; b < len(blocks)/(Block*Block); b++ {
		blk := blocks[b*Block*Block : (b+1)*Block*Block]
		var acc [Block]float32
		for j := 0; j < Block; j++ {
			qj := q[j]
			row := blk[j*Block : (j+1)*Block]
			for m := range acc {
				d := row[m] - qj
				acc[m] += d * d
			}
		}
		copy(out[b*Block:], acc[:])
	}
}

// SqDistBlocksBelow sets out[b*Block+m] to the squared distance between q
// (Block values) and row m of block b of blocks, and bit m of masks[b]
// when out[b*Block+m]*scale < thr[b*Block+m]: which of each block's rows a
// bound fails to rule out, so a caller visits only those. blocks holds
// Block x Block values per block, column-major (value j of row m at
// j*Block+m), so one vector register holds one value of Block rows and no
// sum crosses lanes.
func SqDistBlocksBelow(blocks, q, thr, out []float32, masks []uint16, scale float32) {
	nb := len(blocks) / (Block * Block)
	if nb == 0 {
		return
	}
	_, _, _, _ = q[Block-1], thr[nb*Block-1], out[nb*Block-1], masks[nb-1]
	sqDistBlocksBelow(blocks[:nb*Block*Block], q, thr, out, masks, scale)
}

func sqDistBlocksBelowGo(blocks, q, thr, out []float32, masks []uint16, scale float32) {
	nb := len(blocks) / (Block * Block)
	sqDistBlocks(blocks, q, out)
	for b := range nb {
		var m uint16
		for r := range Block {
			if out[b*Block+r]*scale < thr[b*Block+r] {
				m |= 1 << r
			}
		}
		masks[b] = m
	}
}

// Below writes to dst, in order, the indices i with x[i] < limit (never a
// NaN's) and returns how many; dst has room for len(x), and what lies in
// it past the indices written may be overwritten (the vector loop stores
// whole vectors). A search's pass over one query's bounds, where few
// pass: a vector compare a step.
func Below(dst []int32, x []float32, limit float32) int {
	if len(x) == 0 {
		return 0
	}
	if len(dst) < len(x) || len(x) > math.MaxInt32 {
		panic("vec: Below has no room for every index")
	}
	return below(dst, x, limit)
}

// belowGo is Below over x, whose first element is index base.
func belowGo(dst []int32, x []float32, limit float32, base int) int {
	c := 0
	for i, v := range x {
		if v < limit {
			dst[c] = int32(base + i)
			c++
		}
	}
	return c
}

// CopyRows copies a rows x cols block whose rows start srcStride apart in
// src to rows dstStride apart in dst, in one call: a depthwise
// convolution's planes into their padded places, where a copy a row of
// 14 values costs more in calls than in moves.
func CopyRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	if cols > dstStride || cols > srcStride {
		panic("vec: CopyRows rows overlap")
	}
	_ = dst[(rows-1)*dstStride+cols-1]
	_ = src[(rows-1)*srcStride+cols-1]
	copyRows(dst, dstStride, src, srcStride, rows, cols)
}

func copyRowsGo(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:r*srcStride+cols])
	}
}

// Gather16 copies 16 values from src at offs[i]+at to dst[16i:16i+16],
// for each i: a product's panel of 16 columns made from rows that lie
// anywhere in src (a convolution's receptive fields): with AVX-512 one
// vector load and store a row, where Go's 16-value array copy is a memmove
// call.
func Gather16(dst, src []float32, offs []int, at int) {
	if len(offs) == 0 {
		return
	}
	_ = dst[16*len(offs)-1]
	for _, o := range offs {
		if o+at < 0 || o+at+16 > len(src) {
			panic("vec: Gather16 reads outside src")
		}
	}
	gather16(dst, src, offs, at)
}

func gather16Go(dst, src []float32, offs []int, at int) {
	for i, o := range offs {
		*(*[16]float32)(dst[16*i:]) = *(*[16]float32)(src[o+at:])
	}
}

// Taps9Rows sets, for rows x cols of a plane, dst to the sum over k < 9
// of w[k]*base[offs[k]+...] (tap by tap, as nine Axpy calls on a zeroed
// row would, with their rounding), then ScaleShiftClamp(1, t, lo, hi), in
// one pass: row r of the taps starts at base[offs[k]+r*baseStride] and
// goes to dst[r*dstStride:]. A depthwise convolution's output rows from
// its padded planes, with no buffer between the sum and the clamp.
func Taps9Rows(dst []float32, dstStride int, base []float32, baseStride, rows, cols int, offs *[9]int, w []float32, t, lo, hi float32) {
	if rows == 0 || cols == 0 {
		return
	}
	if cols > dstStride || cols > baseStride {
		panic("vec: Taps9Rows rows overlap")
	}
	_ = dst[(rows-1)*dstStride+cols-1]
	_ = w[8]
	for _, o := range offs {
		_ = base[o+(rows-1)*baseStride+cols-1]
		if o < 0 {
			panic("vec: Taps9Rows tap before the plane")
		}
	}
	taps9Rows(dst, dstStride, base, baseStride, rows, cols, offs, w, t, lo, hi)
}

func taps9RowsGo(dst []float32, dstStride int, base []float32, baseStride, rows, cols int, offs *[9]int, w []float32, t, lo, hi float32) {
	var acc [64]float32
	for r := 0; r < rows; r++ {
		for x0 := 0; x0 < cols; x0 += len(acc) {
			n := min(len(acc), cols-x0)
			taps9Go(acc[:n], base[r*baseStride+x0:], offs, w)
			scaleShiftClamp(dst[r*dstStride+x0:r*dstStride+x0+n], acc[:n], 1, t, lo, hi)
		}
	}
}

// taps9Go sets dst[i] to the sum over t < 9 of w[t]*base[offs[t]+i], tap
// by tap as nine Axpy calls on a zeroed dst, with their rounding.
func taps9Go(dst, base []float32, offs *[9]int, w []float32) {
	clear(dst)
	for t, o := range offs {
		axpy(w[t], base[o:o+len(dst)], dst)
	}
}
