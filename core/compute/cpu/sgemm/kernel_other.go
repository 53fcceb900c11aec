//go:build !amd64 && !(js && wasm)

package sgemm

func kernel(k int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) {
	kernelGo(k, a, b, ldb, c, ldc, accumulate, fin)
}

func kernelName() string { return "go" }

func hasWide() bool { return false }

func kernelWide(k int, a, b0 []float32, ldb0 int, b1 []float32, ldb1 int, c []float32, ldc int, accumulate bool, fin *finish, rows, cols int) {
	panic("sgemm: no wide kernel on this platform")
}

// kernelRows has no in-place partial-panel kernel here; micro goes
// through its buffer.
func kernelRows(k, rows int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) bool {
	return false
}

func kernelWide12(k int, a0, a1 []float32, strips, astride int, b0 []float32, ldb0 int, b1 []float32, ldb1 int, c []float32, ldc int, accumulate bool, fin *finish, cols int) {
	panic("sgemm: no wide kernel on this platform")
}
