//go:build !amd64

package vec

func axpy(a float32, x, y []float32) { axpyGo(a, x, y) }

func scaleShiftClamp(dst, src []float32, s, t, lo, hi float32) {
	scaleShiftClampGo(dst, src, s, t, lo, hi)
}

func add(dst, a, b []float32) { addGo(dst, a, b) }
