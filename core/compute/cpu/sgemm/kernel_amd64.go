package sgemm

import "golang.org/x/sys/cpu"

var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16AVX2 computes C[0:6, 0:16] (+)= A panel x B panel over k steps,
// then optionally adds bias and clamps; ldc is in elements.
// Implemented in kernel_amd64.s.
//
//go:noescape
func kernel6x16AVX2(k int, a, b, c *float32, ldb, ldc int, flags int, bias *float32, lo, hi float32)

func kernel(k int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) {
	if !hasFMA || k == 0 {
		kernelGo(k, a, b, ldb, c, ldc, accumulate, fin)
		return
	}
	// Bounds the assembly relies on, checked once per call.
	_ = a[k*mr-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	flags := 0
	if accumulate {
		flags |= 1
	}
	var bias *float32
	var lo, hi float32
	if fin != nil {
		_ = fin.bias[mr-1]
		flags |= 2
		bias, lo, hi = &fin.bias[0], fin.lo, fin.hi
	}
	kernel6x16AVX2(k, &a[0], &b[0], &c[0], ldb, ldc, flags, bias, lo, hi)
}

func kernelName() string {
	if hasFMA {
		return "avx2+fma"
	}
	return "go"
}
