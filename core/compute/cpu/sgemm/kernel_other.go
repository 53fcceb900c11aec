//go:build !amd64

package sgemm

func kernel(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelGo(k, a, b, c, ldc, accumulate)
}
