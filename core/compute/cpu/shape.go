package cpu

import (
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/sgemm"
)

func (b *Backend) Concat(axis int, xs []compute.Tensor) compute.Tensor {
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		shapes[i] = x.Shape()
	}
	out := b.alloc(compute.ConcatShape(axis, shapes))
	compute.ConcatBlocks(axis, shapes, func(i, src, dst, n int) {
		copy(out.Data[dst:dst+n], xs[i].(*Tensor).Data[src:src+n])
	})
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
