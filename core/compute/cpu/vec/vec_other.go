//go:build !amd64 && !(js && wasm)

package vec

func axpy(a float32, x, y []float32) { axpyGo(a, x, y) }

func scaleShiftClamp(dst, src []float32, s, t, lo, hi float32) {
	scaleShiftClampGo(dst, src, s, t, lo, hi)
}

func add(dst, a, b []float32) { addGo(dst, a, b) }

func maxOf(dst, a, b []float32) { maxGo(dst, a, b) }

func deinterleave(even, odd, src []float32) { deinterleaveGo(even, odd, src) }

func scaleShiftClampRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, s, t, lo, hi float32) {
	scaleShiftClampRowsGo(dst, dstStride, src, srcStride, rows, cols, s, t, lo, hi)
}

func sqDist(a, b []float32) float32 { return sqDistGo(a, b) }

func sqDistBlocks(blocks, q, out []float32) { sqDistBlocksGo(blocks, q, out) }

func sqDistBlocksBelow(blocks, q, thr, out []float32, masks []uint16, scale float32) {
	sqDistBlocksBelowGo(blocks, q, thr, out, masks, scale)
}

func halfToFloat(dst []float32, src []uint16) { halfToFloatGo(dst, src) }

func taps9Rows(dst []float32, dstStride int, base []float32, baseStride, rows, cols int, offs *[9]int, w []float32, t, lo, hi float32) {
	taps9RowsGo(dst, dstStride, base, baseStride, rows, cols, offs, w, t, lo, hi)
}

func copyRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	copyRowsGo(dst, dstStride, src, srcStride, rows, cols)
}

func below(dst []int32, x []float32, limit float32) int { return belowGo(dst, x, limit, 0) }

func gather16(dst, src []float32, offs []int, at int) { gather16Go(dst, src, offs, at) }

func winogradInputRow(dst []float32, stride int, src []float32, rowStride, tiles int) {
	winogradInputRowGo(dst, stride, src, rowStride, tiles)
}

func winogradOutputRow(dst []float32, dstStride, rows, cols int, m []float32, stride, tiles int, bias float32, accumulate bool, lo, hi float32) {
	winogradOutputRowGo(dst, dstStride, rows, cols, m, stride, tiles, bias, accumulate, lo, hi)
}

// WinogradVector reports whether the Winograd transforms run as vector
// code on this CPU.
func WinogradVector() bool { return false }
