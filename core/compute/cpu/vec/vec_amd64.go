package vec

import "golang.org/x/sys/cpu"

var avx2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// avx512 picks the zmm loops for the two that run long (the depthwise
// accumulation and the search's distances); a variable so tests can set
// them against the AVX2 ones.
var avx512 = avx2 && cpu.X86.HasAVX512F

//go:noescape
func axpyAVX512(a float32, x, y *float32, n int)

//go:noescape
func sqDistAVX512(a, b *float32, n int) float32

//go:noescape
func axpyAVX2(a float32, x, y *float32, n int)

//go:noescape
func scaleShiftClampAVX2(dst, src *float32, n int, s, t, lo, hi float32)

//go:noescape
func addAVX2(dst, a, b *float32, n int)

func axpy(a float32, x, y []float32) {
	switch {
	case avx512:
		axpyAVX512(a, &x[0], &y[0], len(y))
	case avx2:
		axpyAVX2(a, &x[0], &y[0], len(y))
	default:
		axpyGo(a, x, y)
	}
}

func scaleShiftClamp(dst, src []float32, s, t, lo, hi float32) {
	if !avx2 {
		scaleShiftClampGo(dst, src, s, t, lo, hi)
		return
	}
	scaleShiftClampAVX2(&dst[0], &src[0], len(dst), s, t, lo, hi)
}

func add(dst, a, b []float32) {
	if !avx2 {
		addGo(dst, a, b)
		return
	}
	addAVX2(&dst[0], &a[0], &b[0], len(dst))
}

//go:noescape
func maxAVX2(dst, a, b *float32, n int)

func maxOf(dst, a, b []float32) {
	if !avx2 {
		maxGo(dst, a, b)
		return
	}
	maxAVX2(&dst[0], &a[0], &b[0], len(dst))
}

//go:noescape
func deinterleaveAVX2(even, odd, src *float32, pairs int)

func deinterleave(even, odd, src []float32) {
	if !avx2 {
		deinterleaveGo(even, odd, src)
		return
	}
	deinterleaveAVX2(&even[0], &odd[0], &src[0], len(src)/2)
}

func scaleShiftClampRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, s, t, lo, hi float32) {
	if !avx2 {
		scaleShiftClampRowsGo(dst, dstStride, src, srcStride, rows, cols, s, t, lo, hi)
		return
	}
	for r := 0; r < rows; r++ {
		scaleShiftClampAVX2(&dst[r*dstStride], &src[r*srcStride], cols, s, t, lo, hi)
	}
}

//go:noescape
func sqDistAVX2(a, b *float32, n int) float32

func sqDist(a, b []float32) float32 {
	switch {
	case avx512:
		return sqDistAVX512(&a[0], &b[0], len(a))
	case avx2:
		return sqDistAVX2(&a[0], &b[0], len(a))
	}
	return sqDistGo(a, b)
}

//go:noescape
func sqDistBlocksAVX2(blocks, q, out *float32, nb int)

func sqDistBlocks(blocks, q, out []float32) {
	nb := len(blocks) / (Block * Block)
	if !avx2 {
		sqDistBlocksGo(blocks, q, out)
		return
	}
	sqDistBlocksAVX2(&blocks[0], &q[0], &out[0], nb)
}

//go:noescape
func sqDistBlocksBelowAVX512(blocks, q, thr, out *float32, masks *uint16, nb int, scale float32)

func sqDistBlocksBelow(blocks, q, thr, out []float32, masks []uint16, scale float32) {
	if !avx512 {
		sqDistBlocksBelowGo(blocks, q, thr, out, masks, scale)
		return
	}
	sqDistBlocksBelowAVX512(&blocks[0], &q[0], &thr[0], &out[0], &masks[0], len(blocks)/(Block*Block), scale)
}

//go:noescape
func taps9RowsAVX512(dst, base *float32, offs *[9]int, w *float32, rows, cols, dstStride, baseStride int, t, lo, hi float32)

func taps9Rows(dst []float32, dstStride int, base []float32, baseStride, rows, cols int, offs *[9]int, w []float32, t, lo, hi float32) {
	if !avx512 {
		taps9RowsGo(dst, dstStride, base, baseStride, rows, cols, offs, w, t, lo, hi)
		return
	}
	taps9RowsAVX512(&dst[0], &base[0], offs, &w[0], rows, cols, dstStride, baseStride, t, lo, hi)
}

// f16c converts halves with the F16C instructions (VCVTPH2PS), which
// every AVX2 CPU but a few early ones has.
var f16c = avx2 && cpu.X86.HasF16C

//go:noescape
func halfToFloatAVX512(dst *float32, src *uint16, n int)

//go:noescape
func halfToFloatF16C(dst *float32, src *uint16, n int)

func halfToFloat(dst []float32, src []uint16) {
	n := len(src) &^ 7
	switch {
	case n > 0 && avx512:
		halfToFloatAVX512(&dst[0], &src[0], n)
	case n > 0 && f16c:
		halfToFloatF16C(&dst[0], &src[0], n)
	default:
		n = 0
	}
	halfToFloatGo(dst[n:], src[n:])
}

//go:noescape
func copyRowsAVX512(dst, src *float32, rows, cols, dstStride, srcStride int)

func copyRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	if !avx512 {
		copyRowsGo(dst, dstStride, src, srcStride, rows, cols)
		return
	}
	copyRowsAVX512(&dst[0], &src[0], rows, cols, dstStride, srcStride)
}

//go:noescape
func gather16AVX512(dst, src *float32, offs *int, n, at int)

func gather16(dst, src []float32, offs []int, at int) {
	if !avx512 {
		gather16Go(dst, src, offs, at)
		return
	}
	gather16AVX512(&dst[0], &src[0], &offs[0], len(offs), at)
}

//go:noescape
func belowAVX512(dst *int32, x *float32, n int, limit float32) int

func below(dst []int32, x []float32, limit float32) int {
	if !avx512 || len(x) < 16 {
		return belowGo(dst, x, limit, 0)
	}
	body := len(x) &^ 15
	c := belowAVX512(&dst[0], &x[0], body, limit)
	return c + belowGo(dst[c:], x[body:], limit, body)
}

//go:noescape
func winogradInputAVX512(dst *float32, stride int, src *float32, rowStride, tiles int)

//go:noescape
func winogradInputAVX2(dst *float32, stride int, src *float32, rowStride, groups int)

// winogradInputRow: AVX-512 16 blocks a step (masked at the end); AVX2 8
// a step, the last tiles%8 in Go.
func winogradInputRow(dst []float32, stride int, src []float32, rowStride, tiles int) {
	switch {
	case avx512:
		winogradInputAVX512(&dst[0], stride, &src[0], rowStride, tiles)
	case avx2 && tiles >= 8:
		g := tiles / 8
		winogradInputAVX2(&dst[0], stride, &src[0], rowStride, g)
		winogradInputRowGoFrom(dst, stride, src, rowStride, tiles, 8*g)
	default:
		winogradInputRowGo(dst, stride, src, rowStride, tiles)
	}
}

//go:noescape
func winogradOutputAVX512(dst *float32, dstStride, rows, cols int, m *float32, stride, tiles int, bias float32, flags int, lo, hi float32)

//go:noescape
func winogradOutputAVX2(dst *float32, dstStride, rows int, m *float32, stride, groups int, bias float32, flags int, lo, hi float32)

func winogradOutputRow(dst []float32, dstStride, rows, cols int, m []float32, stride, tiles int, bias float32, accumulate bool, lo, hi float32) {
	flags := 0
	if accumulate {
		flags = 1
	}
	g := min(tiles/8, cols/16)
	switch {
	case avx512:
		winogradOutputAVX512(&dst[0], dstStride, rows, cols, &m[0], stride, tiles, bias, flags, lo, hi)
	case avx2 && g > 0:
		winogradOutputAVX2(&dst[0], dstStride, rows, &m[0], stride, g, bias, flags, lo, hi)
		winogradOutputRowGoFrom(dst, dstStride, rows, cols, m, stride, tiles, 8*g, bias, accumulate, lo, hi)
	default:
		winogradOutputRowGo(dst, dstStride, rows, cols, m, stride, tiles, bias, accumulate, lo, hi)
	}
}

// WinogradVector reports whether the Winograd transforms run as vector
// code on this CPU (AVX-512, or AVX2 with FMA).
func WinogradVector() bool { return avx512 || avx2 }
