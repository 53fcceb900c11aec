package cpu

import (
	"math"

	"github.com/tessera/tessera/core/compute"
)

func (b *Backend) Pool(x compute.Tensor, s compute.PoolSpec) compute.Tensor {
	in := x.(*Tensor)
	n, c, h, w := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := s.OutSize(h, w)
	out := b.alloc([]int{n, c, oh, ow})
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
