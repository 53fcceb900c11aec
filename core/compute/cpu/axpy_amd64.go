package cpu

import "golang.org/x/sys/cpu"

var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func axpyAVX2(a float32, x, y *float32, n int)

// axpy sets y[i] += a*x[i]; x must be at least as long as y.
func axpy(a float32, x, y []float32) {
	if len(y) == 0 {
		return
	}
	if !hasFMA {
		axpyGo(a, x, y)
		return
	}
	_ = x[len(y)-1]
	axpyAVX2(a, &x[0], &y[0], len(y))
}
