package cpu

import (
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/sgemm"
)

func (b *Backend) Concat(axis int, xs []compute.Tensor) compute.Tensor {
	first := xs[0].(*Tensor)
	shape := append([]int(nil), first.shape...)
	shape[axis] = 0
	for _, x := range xs {
		shape[axis] += x.(*Tensor).shape[axis]
	}
	out := b.alloc(shape)
	outer := compute.Size(shape[:axis])
	inner := compute.Size(shape[axis+1:])
	off := 0
	for _, x := range xs {
		t := x.(*Tensor)
		blk := t.shape[axis] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*shape[axis]*inner+off:], t.Data[o*blk:(o+1)*blk])
		}
		off += blk
	}
	return out
}

func (b *Backend) MatMul(x, y compute.Tensor) compute.Tensor {
	l, r := x.(*Tensor), y.(*Tensor)
	m, k, n := l.shape[0], l.shape[1], r.shape[1]
	out := b.alloc([]int{m, n})
	sgemm.Pack(l.Data, m, k).Mul(out.Data, n, r.Data, n, n, sgemm.Epilogue{}, b.team)
	return out
}

func (b *Backend) Transpose2D(x compute.Tensor) compute.Tensor {
	in := x.(*Tensor)
	r, c := in.shape[0], in.shape[1]
	out := b.alloc([]int{c, r})
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out.Data[j*r+i] = in.Data[i*c+j]
		}
	}
	return out
}
