package cpu

import (
	"math"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// bounds gives the clamp interval of an activation, infinite for none.
func bounds(act compute.Activation) (lo, hi float32) {
	if !act.Clamp {
		return float32(math.Inf(-1)), float32(math.Inf(1))
	}
	return act.Min, act.Max
}

func (b *Backend) Affine(x compute.Tensor, scale, shift []float32, act compute.Activation) compute.Tensor {
	in := x.(*Tensor)
	out := b.alloc(in.shape)
	c := in.shape[1]
	plane := compute.Size(in.shape[2:])
	b.parallel(in.shape[0]*c, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			ch := nc % c
			s, t := scale[ch], shift[ch]
			src := in.Data[nc*plane : (nc+1)*plane]
			dst := out.Data[nc*plane : (nc+1)*plane]
			lo, hi := bounds(act)
			vec.ScaleShiftClamp(dst, src, s, t, lo, hi)
		}
	})
	return out
}

func (b *Backend) Activate(x compute.Tensor, act compute.Activation) compute.Tensor {
	in := x.(*Tensor)
	out := b.alloc(in.shape)
	min, max := bounds(act)
	b.parallel(len(in.Data), func(lo, hi int) {
		vec.ScaleShiftClamp(out.Data[lo:hi], in.Data[lo:hi], 1, 0, min, max)
	})
	return out
}

func (b *Backend) Sigmoid(x compute.Tensor) compute.Tensor {
	in := x.(*Tensor)
	out := b.alloc(in.shape)
	b.parallel(len(in.Data), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out.Data[i] = float32(1 / (1 + math.Exp(-float64(in.Data[i]))))
		}
	})
	return out
}

func (b *Backend) Binary(op compute.BinaryOp, x, y compute.Tensor, outShape []int) compute.Tensor {
	l, r := x.(*Tensor), y.(*Tensor)
	out := b.alloc(outShape)
	if op == compute.Add && equalShape(l.shape, outShape) && equalShape(r.shape, outShape) {
		b.parallel(len(out.Data), func(lo, hi int) {
			vec.Add(out.Data[lo:hi], l.Data[lo:hi], r.Data[lo:hi])
		})
		return out
	}
	f := func(a, b float32) float32 { return a + b }
	if op == compute.Mul {
		f = func(a, b float32) float32 { return a * b }
	}
	ls, rs := broadcastStrides(l.shape, outShape), broadcastStrides(r.shape, outShape)
	rank := len(outShape)
	b.parallel(len(out.Data), func(lo, hi int) {
		idx := make([]int, rank)
		for i := lo; i < hi; i++ {
			rem := i
			for d := rank - 1; d >= 0; d-- {
				idx[d] = rem % outShape[d]
				rem /= outShape[d]
			}
			li, ri := 0, 0
			for d := 0; d < rank; d++ {
				li += idx[d] * ls[d]
				ri += idx[d] * rs[d]
			}
			out.Data[i] = f(l.Data[li], r.Data[ri])
		}
	})
	return out
}

// broadcastStrides gives, for each axis of out, the stride of shape's
// matching axis, or 0 where shape is broadcast along it.
func broadcastStrides(shape, out []int) []int {
	st := make([]int, len(out))
	off := len(out) - len(shape)
	stride := 1
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] != 1 {
			st[d+off] = stride
		}
		stride *= shape[d]
	}
	return st
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
