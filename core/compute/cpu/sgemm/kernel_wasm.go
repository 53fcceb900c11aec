//go:build js && wasm

package sgemm

import "github.com/tessera/tessera/core/compute/cpu/wasmsimd"

// simdLevel is what the host bound (wasmsimd.Level), read once.
var simdLevel = wasmsimd.Level()

func kernelName() string { return wasmsimd.LevelName(simdLevel) }

func kernel(k int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) {
	if simdLevel == wasmsimd.None || k == 0 {
		kernelGo(k, a, b, ldb, c, ldc, accumulate, fin)
		return
	}
	kernelSIMD(simdLevel == wasmsimd.Relaxed, k, mr, a, b, ldb, c, ldc, accumulate, fin)
}

// kernelRows is the kernel for a panel's first rows only, in place: the
// SIMD kernel computes just the row pairs it needs.
func kernelRows(k, rows int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) bool {
	if simdLevel == wasmsimd.None || k == 0 {
		return false
	}
	kernelSIMD(simdLevel == wasmsimd.Relaxed, k, rows, a, b, ldb, c, ldc, accumulate, fin)
	return true
}

// kernelSIMD runs the wasm module's micro-kernel: the SIMD128 one sums in
// kernelGo's order, bit for bit; the relaxed one fuses each multiply-add.
func kernelSIMD(relaxed bool, k, rows int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) {
	// Bounds the module relies on, checked once per call.
	_ = a[k*mr-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(rows-1)*ldc+nr-1]
	flags, bias, lo, hi := fin.kernelArgs(accumulate)
	wasmsimd.Sgemm(relaxed, k, rows, &a[0], &b[0], ldb, &c[0], ldc, flags, bias, lo, hi)
}

func hasWide() bool { return false }

func kernelWide(k int, a, b0 []float32, ldb0 int, b1 []float32, ldb1 int, c []float32, ldc int, accumulate bool, fin *finish, rows, cols int) {
	panic("sgemm: no wide kernel under wasm")
}

func kernelWide12(k int, a0, a1 []float32, strips, astride int, b0 []float32, ldb0 int, b1 []float32, ldb1 int, c []float32, ldc int, accumulate bool, fin *finish, cols int) {
	panic("sgemm: no wide kernel on this platform")
}
