package sgemm

import "golang.org/x/sys/cpu"

var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 picks the 6x32 kernel; x/sys/cpu reports AVX-512 only where
// the OS saves the registers too. A variable so tests can set the two
// kernels against each other on one machine.
var hasAVX512 = cpuHasAVX512()

func cpuHasAVX512() bool { return hasFMA && cpu.X86.HasAVX512F }

func hasWide() bool { return hasAVX512 }

// kernel6x32AVX512 is kernel6x16AVX2 over two B panels side by side (b0
// for columns 0-15, b1 for 16-31), with one zmm register per 16 columns,
// reading and writing only C's first rows rows and the columns in mask.
// Implemented in kernel_amd64.s.
//
//go:noescape
func kernel6x32AVX512(k int, a, b0, b1, c *float32, ldb0, ldb1, ldc int, flags int, bias *float32, lo, hi float32, rows int, mask uint32)

// kernelWide computes the rows x cols corner (rows <= 6, cols <= 32) of a
// 6 x 32 tile of C in place: with AVX-512's masks, a partial tile needs no
// buffer. b1 is read whole even when cols <= 16; the panels' row strides
// are ldb0 and ldb1.
func kernelWide(k int, a, b0 []float32, ldb0 int, b1 []float32, ldb1 int, c []float32, ldc int, accumulate bool, fin *finish, rows, cols int) {
	if k == 0 {
		// C = 0 (+ C), then the epilogue: the kernel's loop takes k >= 1.
		var tmp [mr * 2 * nr]float32
		for r := 0; r < rows; r++ {
			copy(tmp[r*2*nr:r*2*nr+cols], c[r*ldc:r*ldc+cols])
		}
		kernel(k, a, b0, ldb0, tmp[:], 2*nr, accumulate, fin)
		kernel(k, a, b1, ldb1, tmp[nr:], 2*nr, accumulate, fin)
		for r := 0; r < rows; r++ {
			copy(c[r*ldc:r*ldc+cols], tmp[r*2*nr:r*2*nr+cols])
		}
		return
	}
	_ = a[k*mr-1]
	_ = b0[(k-1)*ldb0+nr-1]
	_ = b1[(k-1)*ldb1+nr-1]
	_ = c[(rows-1)*ldc+cols-1]
	flags, bias, lo, hi := fin.kernelArgs(accumulate)
	mask := uint32(1)<<cols - 1 // cols 32: the shift gives 0, minus 1 all ones
	kernel6x32AVX512(k, &a[0], &b0[0], &b1[0], &c[0], ldb0, ldb1, ldc, flags, bias, lo, hi, rows, mask)
}

//go:noescape
func kernel12x32AVX512(k int, a0, a1, b0, b1, c *float32, ldb0, ldb1, ldc int, flags int, bias *float32, lo, hi float32, mask uint32, strips, astride int)

// kernelWide12 computes the first cols columns (<= 32) of strips 12 x 32
// tiles of C in place, one under the other: rows 0-5 of strip s from the
// A panel at a0[s*astride:] and 6-11 from a1[s*astride:]; fin, when set,
// holds 12*strips rows' bias. The same sums as two kernelWide calls a
// strip, in the same order, with twice the sums in flight; the strips in
// one call, as a call costs Go code around it that a short depth pass
// (64) feels.
func kernelWide12(k int, a0, a1 []float32, strips, astride int, b0 []float32, ldb0 int, b1 []float32, ldb1 int, c []float32, ldc int, accumulate bool, fin *finish, cols int) {
	if k == 0 {
		for st := 0; st < strips; st++ {
			f0, f1 := fin, fin
			if fin != nil {
				f0 = &finish{bias: fin.bias[st*2*mr : st*2*mr+mr], lo: fin.lo, hi: fin.hi}
				f1 = &finish{bias: fin.bias[st*2*mr+mr : (st+1)*2*mr], lo: fin.lo, hi: fin.hi}
			}
			cs := c[st*2*mr*ldc:]
			kernelWide(k, a0, b0, ldb0, b1, ldb1, cs, ldc, accumulate, f0, mr, cols)
			kernelWide(k, a1, b0, ldb0, b1, ldb1, cs[mr*ldc:], ldc, accumulate, f1, mr, cols)
		}
		return
	}
	if strips < 1 {
		panic("sgemm: no strips")
	}
	last := (strips - 1) * astride
	_ = a0[last+k*mr-1]
	_ = a1[last+k*mr-1]
	_ = b0[(k-1)*ldb0+nr-1]
	_ = b1[(k-1)*ldb1+nr-1]
	_ = c[(strips*2*mr-1)*ldc+cols-1]
	flags, bias, lo, hi := fin.kernelArgs(accumulate)
	if fin != nil {
		_ = fin.bias[strips*2*mr-1] // the kernel reads twelve rows' bias a strip
	}
	mask := uint32(1)<<cols - 1
	kernel12x32AVX512(k, &a0[0], &a1[0], &b0[0], &b1[0], &c[0], ldb0, ldb1, ldc, flags, bias, lo, hi, mask, strips, astride)
}

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
	flags, bias, lo, hi := fin.kernelArgs(accumulate)
	kernel6x16AVX2(k, &a[0], &b[0], &c[0], ldb, ldc, flags, bias, lo, hi)
}

func kernelName() string {
	if hasAVX512 {
		return "avx512"
	}
	if hasFMA {
		return "avx2+fma"
	}
	return "go"
}

// kernelRows has no in-place partial-panel kernel here; micro goes
// through its buffer.
func kernelRows(k, rows int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) bool {
	return false
}
