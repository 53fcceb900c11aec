package sgemm

import "golang.org/x/sys/cpu"

var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16AVX2 computes C[0:6, 0:16] (+)= A panel x B panel over k steps;
// ldc is in elements. Implemented in kernel_amd64.s.
//
//go:noescape
func kernel6x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

func kernel(k int, a, b, c []float32, ldc int, accumulate bool) {
	if !hasFMA {
		kernelGo(k, a, b, c, ldc, accumulate)
		return
	}
	// Bounds the assembly relies on, checked once per call.
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, accumulate)
}
