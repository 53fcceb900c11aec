package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	winogradBT = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winogradAT = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

func randValues(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*4 - 2
	}
	return s
}

// TestWinogradInputRow checks every block of a row against B^T d B in
// float64, over widths around the 16-block step, and that the values
// past the row (the slack) and between the matrices are left alone.
func TestWinogradInputRow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tiles := range []int{1, 2, 7, 15, 16, 17, 28, 33} {
		rowStride := 2*tiles + 2 + tiles%3
		src := randValues(r, 3*rowStride+2*tiles+2+WinogradInputSlack(tiles))
		stride := tiles + 5
		dst := make([]float32, 16*stride)
		for i := range dst {
			dst[i] = 99
		}
		WinogradInputRow(dst, stride, src, rowStride, tiles)
		for tb := 0; tb < tiles; tb++ {
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					var want float64
					for a := 0; a < 4; a++ {
						for b := 0; b < 4; b++ {
							want += winogradBT[i][a] * float64(src[a*rowStride+2*tb+b]) * winogradBT[j][b]
						}
					}
					if got := dst[(4*i+j)*stride+tb]; math.Abs(float64(got)-want) > 1e-5 {
						t.Fatalf("tiles %d block %d position %d: %g, want %g", tiles, tb, 4*i+j, got, want)
					}
				}
			}
		}
		for p := 0; p < 16; p++ {
			for c := tiles; c < stride; c++ {
				if dst[p*stride+c] != 99 {
					t.Fatalf("tiles %d: position %d column %d written past the blocks", tiles, p, c)
				}
			}
		}
	}
}

// TestWinogradOutputRow checks A^T m A + bias (+ what dst held) clamped,
// in float64, for one and two rows, even and odd widths, and that nothing
// past the row's columns is written.
func TestWinogradOutputRow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	inf := float32(math.Inf(1))
	for _, tiles := range []int{1, 3, 8, 16, 17, 31, 40} {
		for _, tc := range []struct {
			rows, cols int
			acc        bool
			lo, hi     float32
		}{{2, 2 * tiles, false, -inf, inf}, {1, 2*tiles - 1, true, 0, 6}, {2, 2*tiles - 1, true, -inf, inf}, {1, 2 * tiles, false, -1, 1}} {
			stride := tiles + 3
			m := randValues(r, 16*stride)
			dstStride := 2*tiles + 4
			dst := randValues(r, 2*dstStride)
			before := append([]float32(nil), dst...)
			const bias = 0.25
			WinogradOutputRow(dst, dstStride, tc.rows, tc.cols, m, stride, tiles, bias, tc.acc, tc.lo, tc.hi)
			name := fmt.Sprintf("tiles %d %+v", tiles, tc)
			for y := 0; y < 2; y++ {
				for x := 0; x < dstStride; x++ {
					got := dst[y*dstStride+x]
					if y >= tc.rows || x >= tc.cols {
						if got != before[y*dstStride+x] {
							t.Fatalf("%s: (%d, %d) written outside the rows", name, y, x)
						}
						continue
					}
					tb := x / 2
					var want float64
					for a := 0; a < 4; a++ {
						for b := 0; b < 4; b++ {
							want += winogradAT[y][a] * float64(m[(4*a+b)*stride+tb]) * winogradAT[x%2][b]
						}
					}
					want += bias
					if tc.acc {
						want += float64(before[y*dstStride+x])
					}
					want = math.Min(math.Max(want, float64(tc.lo)), float64(tc.hi))
					if math.Abs(float64(got)-want) > 1e-5 {
						t.Fatalf("%s: (%d, %d) = %g, want %g", name, y, x, got, want)
					}
				}
			}
		}
	}
}

// TestWinogradVectorAgainstGo runs both transforms through the dispatch
// (AVX-512, AVX2 or wasm SIMD, where there is one) and as the Go loops,
// over widths around the vector steps (16, 8 and 4 blocks) and an odd
// output width: the same sums in the same order, so bit for bit.
func TestWinogradVectorAgainstGo(t *testing.T) {
	if !WinogradVector() {
		t.Skip("no vector Winograd transforms here")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, tiles := range []int{1, 3, 4, 5, 8, 9, 16, 17, 28, 49} {
		rowStride := 2*tiles + 3
		src := randValues(r, 3*rowStride+2*tiles+2+WinogradInputSlack(tiles))
		m := randValues(r, 16*tiles)
		in := [2][]float32{make([]float32, 16*tiles), make([]float32, 16*tiles)}
		winogradInputRow(in[0], tiles, src, rowStride, tiles)
		winogradInputRowGo(in[1], tiles, src, rowStride, tiles)
		for _, cols := range []int{2 * tiles, 2*tiles - 1} {
			var out [2][]float32
			for i := range out {
				out[i] = randValues(rand.New(rand.NewPCG(1, uint64(tiles))), 2*(2*tiles+1))
			}
			winogradOutputRow(out[0], 2*tiles+1, 2, cols, m, tiles, tiles, -0.5, true, 0, 6)
			winogradOutputRowGo(out[1], 2*tiles+1, 2, cols, m, tiles, tiles, -0.5, true, 0, 6)
			for i := range out[0] {
				if out[0][i] != out[1][i] {
					t.Fatalf("output tiles %d cols %d: [%d] = %g vector, %g in Go", tiles, cols, i, out[0][i], out[1][i])
				}
			}
		}
		for i := range in[0] {
			if in[0][i] != in[1][i] {
				t.Fatalf("input tiles %d: [%d] = %g vector, %g in Go", tiles, i, in[0][i], in[1][i])
			}
		}
	}
}
