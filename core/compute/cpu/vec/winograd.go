package vec

// The two halves of Winograd's F(2x2, 3x3) convolution, one row of 4x4
// input blocks (2x2 output blocks) a call: B^T d B and A^T m A with
//
//	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	A^T = [1 1 1 0; 0 1 -1 -1]
//
// The 16 transformed values of a block go to 16 matrices, stride apart,
// block t of the row at column t of each: the layout of the 16 products
// over the channels that come between the two halves.

// WinogradInputSlack is how many values past the fourth row's last block
// WinogradInputRow may read: its vector loads cover blocks 16 at a time.
func WinogradInputSlack(tiles int) int { return 2*((tiles+15)/16*16) + 2 - (2*tiles + 2) }

// WinogradInputRow writes V[p][t] = (B^T d B)[p] to dst[p*stride+t] for
// the blocks t < tiles of one block row: block t is the 4x4 values at
// columns 2t..2t+3 of the four rows src[r*rowStride:]. The columns are
// combined first, then the rows; src must hold WinogradInputSlack more
// values past the last block (they do not change the result).
func WinogradInputRow(dst []float32, stride int, src []float32, rowStride, tiles int) {
	if tiles <= 0 {
		return
	}
	if stride < tiles || rowStride < 2*tiles+2 {
		panic("vec: WinogradInputRow blocks overlap")
	}
	_ = dst[15*stride+tiles-1]
	_ = src[3*rowStride+2*tiles+1+WinogradInputSlack(tiles)]
	winogradInputRow(dst, stride, src, rowStride, tiles)
}

// winogradInputRowGoFrom runs the Go loop on blocks [r, tiles), what a
// vector loop of whole steps left.
func winogradInputRowGoFrom(dst []float32, stride int, src []float32, rowStride, tiles, r int) {
	if r < tiles {
		winogradInputRowGo(dst[r:], stride, src[2*r:], rowStride, tiles-r)
	}
}

func winogradInputRowGo(dst []float32, stride int, src []float32, rowStride, tiles int) {
	for t := 0; t < tiles; t++ {
		var c [4][4]float32 // c[r][j]: the columns combined, row r
		for r := 0; r < 4; r++ {
			d := src[r*rowStride+2*t:][:4]
			e0, o0, e1, o1 := d[0], d[1], d[2], d[3]
			c[r] = [4]float32{e0 - e1, o0 + e1, e1 - o0, o0 - o1}
		}
		for j := 0; j < 4; j++ {
			dst[j*stride+t] = c[0][j] - c[2][j]
			dst[(4+j)*stride+t] = c[1][j] + c[2][j]
			dst[(8+j)*stride+t] = c[2][j] - c[1][j]
			dst[(12+j)*stride+t] = c[1][j] - c[3][j]
		}
	}
}

// WinogradOutputRow writes one row of 2x2 output blocks from the products
// m (position p of block t at m[p*stride+t]): rows (1 or 2) output rows
// of cols values (2*tiles, or 2*tiles-1 for an odd width), row r at
// dst[r*dstStride:], each value (A^T m A) + bias, plus what dst held with
// accumulate, then clamped to [lo, hi] (+-Inf for no clamp).
func WinogradOutputRow(dst []float32, dstStride, rows, cols int, m []float32, stride, tiles int, bias float32, accumulate bool, lo, hi float32) {
	if tiles <= 0 {
		return
	}
	if rows < 1 || rows > 2 || cols < 2*tiles-1 || cols > 2*tiles || stride < tiles || (rows == 2 && dstStride < cols) {
		panic("vec: WinogradOutputRow rows or columns do not fit the blocks")
	}
	_ = dst[(rows-1)*dstStride+cols-1]
	_ = m[15*stride+tiles-1]
	winogradOutputRow(dst, dstStride, rows, cols, m, stride, tiles, bias, accumulate, lo, hi)
}

// winogradOutputRowGoFrom runs the Go loop on blocks [r, tiles) (output
// columns 2r on), what a vector loop of whole steps left.
func winogradOutputRowGoFrom(dst []float32, dstStride, rows, cols int, m []float32, stride, tiles, r int, bias float32, accumulate bool, lo, hi float32) {
	if r < tiles {
		winogradOutputRowGo(dst[2*r:], dstStride, rows, cols-2*r, m[r:], stride, tiles-r, bias, accumulate, lo, hi)
	}
}

func winogradOutputRowGo(dst []float32, dstStride, rows, cols int, m []float32, stride, tiles int, bias float32, accumulate bool, lo, hi float32) {
	for t := 0; t < tiles; t++ {
		var s [2][4]float32 // A^T m
		for j := 0; j < 4; j++ {
			m0, m1, m2, m3 := m[j*stride+t], m[(4+j)*stride+t], m[(8+j)*stride+t], m[(12+j)*stride+t]
			s[0][j], s[1][j] = m0+m1+m2, m1-m2-m3
		}
		for r := 0; r < rows; r++ {
			e := s[r]
			y := [2]float32{e[0] + e[1] + e[2] + bias, e[1] - e[2] - e[3] + bias}
			row := dst[r*dstStride:]
			for b := 0; b < 2 && 2*t+b < cols; b++ {
				v := y[b]
				if accumulate {
					v += row[2*t+b]
				}
				row[2*t+b] = min(max(v, lo), hi)
			}
		}
	}
}
