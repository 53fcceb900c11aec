package cpu

import (
	"math"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

func (b *Backend) Pool(x compute.Tensor, s compute.PoolSpec) compute.Tensor {
	in := x.(*Tensor)
	n, c, h, w := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := s.OutSize(h, w)
	out := b.alloc([]int{n, c, oh, ow})
	if s.Kind == compute.MaxPool {
		b.maxPool(in, out, s)
		return out
	}
	b.parallel(n*c, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			plane := in.Data[nc*h*w : (nc+1)*h*w]
			dst := out.Data[nc*oh*ow : (nc+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				y0 := oy*s.StrideH - s.PadT
				y1 := min(y0+s.KH, h+s.PadB)
				for ox := 0; ox < ow; ox++ {
					x0 := ox*s.StrideW - s.PadL
					x1 := min(x0+s.KW, w+s.PadR)
					// The window clipped to the padded input is what
					// count_include_pad divides by; clipped to the input,
					// what the other mode divides by.
					padCount := (y1 - y0) * (x1 - x0)
					cy0, cy1, cx0, cx1 := max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
					acc := float32(0)
					if s.Kind == compute.MaxPool {
						acc = float32(math.Inf(-1))
					}
					for iy := cy0; iy < cy1; iy++ {
						row := plane[iy*w : (iy+1)*w]
						for ix := cx0; ix < cx1; ix++ {
							if s.Kind == compute.MaxPool {
								acc = max(acc, row[ix])
							} else {
								acc += row[ix]
							}
						}
					}
					if s.Kind == compute.AvgPool {
						cnt := (cy1 - cy0) * (cx1 - cx0)
						if s.CountIncludePad {
							cnt = padCount
						}
						acc /= float32(cnt)
					}
					dst[oy*ow+ox] = acc
				}
			}
		}
	})
	return out
}

func (b *Backend) GlobalAvgPool(x compute.Tensor) compute.Tensor {
	in := x.(*Tensor)
	n, c := in.shape[0], in.shape[1]
	plane := compute.Size(in.shape[2:])
	out := b.alloc([]int{n, c, 1, 1})
	b.parallel(n*c, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			var s float64
			for _, v := range in.Data[nc*plane : (nc+1)*plane] {
				s += float64(v)
			}
			out.Data[nc] = float32(s / float64(plane))
		}
	})
	return out
}

// maxPool is Pool's max: separable, so that its loops carry no clipping
// or kind tests per element. Each output row is first the maximum of its
// window's input rows, whole rows at a time, then the maximum over each
// window's columns of that one row, both through vec.Max (SIMD) for
// strides 1 and 2: rows before columns, so the column pass runs once per
// output row instead of once per input row (ResNet's 3x3/2 pool: half the
// calls). Elsewhere the comparisons are written out: Go's float max
// compiles to a slow sequence under wasm (the general loop with it took
// 19 ms of ResNet-50's 223 in the browser, the written-out one 4.7). A
// NaN still wins, as with max.
func (b *Backend) maxPool(in, out *Tensor, s compute.PoolSpec) {
	n, c, h, w := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	// Output column ox takes input columns [x0[ox], x1[ox]).
	x0, x1 := make([]int, ow), make([]int, ow)
	for ox := range x0 {
		lo := ox*s.StrideW - s.PadL
		x0[ox], x1[ox] = max(lo, 0), min(lo+s.KW, w)
	}
	inf := float32(math.Inf(-1))
	st := s.StrideW
	b.parallel(n*c, func(first, end int) {
		rows := b.scratch(w) // an output row's window rows, reduced
		defer b.putScratch(rows)
		var even, odd []float32 // stride 2: that row's even and odd columns
		if st == 2 {
			even = b.scratch(2 * ((w + 1) / 2))
			defer b.putScratch(even)
			even, odd = even[:(w+1)/2], even[(w+1)/2:][:w/2]
		}
		for nc := first; nc < end; nc++ {
			plane := in.Data[nc*h*w : (nc+1)*h*w]
			dst := out.Data[nc*oh*ow : (nc+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				lo := oy*s.StrideH - s.PadT
				y0, y1 := max(lo, 0), min(lo+s.KH, h)
				hm := dst[oy*ow : (oy+1)*ow]
				if y0 >= y1 {
					for i := range hm {
						hm[i] = inf
					}
					continue
				}
				row := plane[y0*w : (y0+1)*w]
				if y1-y0 > 1 {
					vec.Max(rows, row, plane[(y0+1)*w:(y0+2)*w])
					for iy := y0 + 2; iy < y1; iy++ {
						vec.Max(rows, rows, plane[iy*w:(iy+1)*w])
					}
					row = rows
				}
				if st <= 2 {
					// One vec.Max per filter column, over a shifted slice of
					// the row (stride 1) or of its even or odd half (2).
					for i := range hm {
						hm[i] = inf
					}
					if st == 2 {
						vec.Deinterleave(even, odd, row)
					}
					for k := 0; k < s.KW; k++ {
						line, shift := row, k-s.PadL // input column of output 0
						if st == 2 {
							if shift%2 == 0 {
								line, shift = even, shift/2
							} else {
								line, shift = odd, (shift-1)/2
							}
						}
						x0, x1 := max(0, -shift), min(ow, len(line)-shift)
						if x0 < x1 {
							vec.Max(hm[x0:x1], hm[x0:x1], line[x0+shift:x1+shift])
						}
					}
					continue
				}
				for ox := range hm {
					m := inf
					for _, v := range row[x0[ox]:x1[ox]] {
						if v > m || v != v {
							m = v
						}
					}
					hm[ox] = m
				}
			}
		}
	})
}
