package vec

import "golang.org/x/sys/cpu"

var avx2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func axpyAVX2(a float32, x, y *float32, n int)

//go:noescape
func scaleShiftClampAVX2(dst, src *float32, n int, s, t, lo, hi float32)

//go:noescape
func addAVX2(dst, a, b *float32, n int)

func axpy(a float32, x, y []float32) {
	if !avx2 {
		axpyGo(a, x, y)
		return
	}
	axpyAVX2(a, &x[0], &y[0], len(y))
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
	if !avx2 {
		return sqDistGo(a, b)
	}
	return sqDistAVX2(&a[0], &b[0], len(a))
}
