//go:build js && wasm

package vec

import "github.com/tessera/tessera/core/compute/cpu/wasmsimd"

// simdLevel is what the host bound (wasmsimd.Level), read once.
var simdLevel = wasmsimd.Level()

func relaxed() bool { return simdLevel == wasmsimd.Relaxed }

func axpy(a float32, x, y []float32) {
	if simdLevel == wasmsimd.None {
		axpyGo(a, x, y)
		return
	}
	wasmsimd.Axpy(relaxed(), a, &x[0], &y[0], len(y))
}

func scaleShiftClamp(dst, src []float32, s, t, lo, hi float32) {
	if simdLevel == wasmsimd.None {
		scaleShiftClampGo(dst, src, s, t, lo, hi)
		return
	}
	wasmsimd.ScaleShiftClamp(&dst[0], &src[0], len(dst), s, t, lo, hi)
}

func add(dst, a, b []float32) {
	if simdLevel == wasmsimd.None {
		addGo(dst, a, b)
		return
	}
	wasmsimd.Add(&dst[0], &a[0], &b[0], len(dst))
}

func maxOf(dst, a, b []float32) {
	if simdLevel == wasmsimd.None {
		maxGo(dst, a, b)
		return
	}
	wasmsimd.Max(&dst[0], &a[0], &b[0], len(dst))
}

func deinterleave(even, odd, src []float32) {
	if simdLevel == wasmsimd.None {
		deinterleaveGo(even, odd, src)
		return
	}
	wasmsimd.Deinterleave(&even[0], &odd[0], &src[0], len(src)/2)
}

func scaleShiftClampRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, s, t, lo, hi float32) {
	for r := 0; r < rows; r++ {
		scaleShiftClamp(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:r*srcStride+cols], s, t, lo, hi)
	}
}

// shortDist is the length below which the Go loop beats the SIMD module:
// each call into it goes through a JS forwarder (20-30 ns), as long as 30
// values take in Go. The coreset's 16-value bounds are that short.
const shortDist = 32

func sqDist(a, b []float32) float32 {
	if simdLevel == wasmsimd.None || len(a) < shortDist {
		return sqDistGo(a, b)
	}
	return wasmsimd.SqDist(relaxed(), &a[0], &b[0], len(a))
}

func sqDistBlocks(blocks, q, out []float32) { sqDistBlocksGo(blocks, q, out) }

func sqDistBlocksBelow(blocks, q, thr, out []float32, masks []uint16, scale float32) {
	if simdLevel == wasmsimd.None {
		sqDistBlocksBelowGo(blocks, q, thr, out, masks, scale)
		return
	}
	wasmsimd.SqDistBlocksBelow(&blocks[0], &q[0], &thr[0], &out[0], &masks[0], len(blocks)/(Block*Block), scale)
}

func halfToFloat(dst []float32, src []uint16) { halfToFloatGo(dst, src) }

func taps9Rows(dst []float32, dstStride int, base []float32, baseStride, rows, cols int, offs *[9]int, w []float32, t, lo, hi float32) {
	if simdLevel == wasmsimd.None {
		taps9RowsGo(dst, dstStride, base, baseStride, rows, cols, offs, w, t, lo, hi)
		return
	}
	wasmsimd.Taps9Rows(relaxed(), &dst[0], &base[0], offs, &w[0], rows, cols, dstStride, baseStride, t, lo, hi)
}

func copyRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	copyRowsGo(dst, dstStride, src, srcStride, rows, cols)
}

func below(dst []int32, x []float32, limit float32) int {
	if simdLevel == wasmsimd.None {
		return belowGo(dst, x, limit, 0)
	}
	return wasmsimd.Below(&dst[0], &x[0], len(x), limit)
}

func gather16(dst, src []float32, offs []int, at int) { gather16Go(dst, src, offs, at) }

// The Winograd transforms: four blocks a SIMD step, the last tiles%4 (and
// an odd width's last block) in Go.
func winogradInputRow(dst []float32, stride int, src []float32, rowStride, tiles int) {
	g := tiles / 4
	if simdLevel == wasmsimd.None || g == 0 {
		winogradInputRowGo(dst, stride, src, rowStride, tiles)
		return
	}
	wasmsimd.WinogradInput(&dst[0], stride, &src[0], rowStride, g)
	winogradInputRowGoFrom(dst, stride, src, rowStride, tiles, 4*g)
}

func winogradOutputRow(dst []float32, dstStride, rows, cols int, m []float32, stride, tiles int, bias float32, accumulate bool, lo, hi float32) {
	g := min(tiles/4, cols/8)
	if simdLevel == wasmsimd.None || g == 0 {
		winogradOutputRowGo(dst, dstStride, rows, cols, m, stride, tiles, bias, accumulate, lo, hi)
		return
	}
	flags := 0
	if accumulate {
		flags = 1
	}
	wasmsimd.WinogradOutput(&dst[0], dstStride, rows, &m[0], stride, g, bias, flags, lo, hi)
	winogradOutputRowGoFrom(dst, dstStride, rows, cols, m, stride, tiles, 4*g, bias, accumulate, lo, hi)
}

// WinogradVector reports whether the Winograd transforms run as vector
// code: with the SIMD kernels bound.
func WinogradVector() bool { return simdLevel != wasmsimd.None }
