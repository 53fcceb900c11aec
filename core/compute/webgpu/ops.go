//go:build cgo || js

package webgpu

import (
	"fmt"
	"math"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/tessera/tessera/core/compute"
)

// convWeights are a convolution's weights and bias in GPU buffers.
type convWeights struct {
	spec         compute.ConvSpec
	weight, bias *wgpu.Buffer
}

func (w *convWeights) Spec() compute.ConvSpec { return w.spec }

func (w *convWeights) depthwise() bool {
	s := w.spec
	return s.Group > 1 && s.Group == s.InC && s.Group == s.OutC
}

func (b *Backend) PrepareConv(spec compute.ConvSpec, weight, bias []float32) compute.Weights {
	if bias == nil {
		bias = make([]float32, spec.OutC)
	}
	return &convWeights{spec: spec, weight: b.upload(weight), bias: b.upload(bias)}
}

func actFlags(act compute.Activation) (flags uint32, lo, hi float32) {
	if act.Clamp {
		return 2, act.Min, act.Max
	}
	return 0, float32(math.Inf(-1)), float32(math.Inf(1))
}

func (b *Backend) Conv(x compute.Tensor, wt compute.Weights, act compute.Activation) compute.Tensor {
	in := x.(*Tensor)
	w := wt.(*convWeights)
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := s.OutSize(h, wd)
	out := b.alloc([]int{n, s.OutC, oh, ow})
	flags, lo, hi := actFlags(act)
	if w.depthwise() {
		total := n * c * oh * ow
		b.run("depthwise", []uint32{uint32(c), uint32(h), uint32(wd), uint32(s.KH), uint32(s.KW), uint32(s.StrideH), uint32(s.StrideW),
			uint32(s.DilH), uint32(s.DilW), uint32(s.PadT), uint32(s.PadL), uint32(oh), uint32(ow), uint32(total), flags, 0, f32(lo), f32(hi)},
			total, nil, out.buf, in.buf, w.weight, w.bias)
		return out
	}
	cg, og := c/s.Group, s.OutC/s.Group
	k := cg * s.KH * s.KW
	ohw := oh * ow
	pointwise := s.KH == 1 && s.KW == 1 && s.StrideH == 1 && s.StrideW == 1 && s.PadT+s.PadL+s.PadB+s.PadR == 0
	var cols *wgpu.Buffer
	if !pointwise {
		cols = b.buffer(k * ohw)
		defer b.free(cols)
	}
	for img := 0; img < n; img++ {
		for g := 0; g < s.Group; g++ {
			src, bOff := in.buf, (img*c+g*cg)*h*wd
			if !pointwise {
				b.run("im2col", []uint32{uint32(cg), uint32(h), uint32(wd), uint32(s.KH), uint32(s.KW), uint32(s.StrideH), uint32(s.StrideW),
					uint32(s.DilH), uint32(s.DilW), uint32(s.PadT), uint32(s.PadL), uint32(oh), uint32(ow), uint32(bOff), uint32(k * ohw)},
					k*ohw, nil, cols, in.buf)
				src, bOff = cols, 0
			}
			b.matmul(w.weight, g*og*k, src, bOff, ohw, out.buf, (img*s.OutC+g*og)*ohw, og, ohw, k, w.bias, g*og, flags|1, lo, hi)
		}
	}
	return out
}

// matmul runs C = A x B (+ bias, clamp) on buffers at element offsets.
func (b *Backend) matmul(a *wgpu.Buffer, aOff int, bb *wgpu.Buffer, bOff, ldb int, c *wgpu.Buffer, cOff, m, n, k int, bias *wgpu.Buffer, biasOff int, flags uint32, lo, hi float32) {
	if bias == nil {
		bias = a // not read without flag 1, but the binding needs a buffer
	}
	groups := [3]uint32{uint32((n + 63) / 64), uint32((m + 63) / 64), 1}
	b.run("matmul", []uint32{uint32(m), uint32(n), uint32(k), uint32(ldb), uint32(aOff), uint32(bOff), uint32(cOff), uint32(biasOff), flags, f32(lo), f32(hi)},
		0, &groups, c, a, bb, bias)
}

func (b *Backend) affine(x *Tensor, ss []float32, act compute.Activation, mode uint32) compute.Tensor {
	out := b.alloc(x.shape)
	c, plane := 1, compute.Size(x.shape)
	if len(x.shape) >= 2 {
		c, plane = x.shape[1], compute.Size(x.shape[2:])
	}
	if ss == nil {
		ss = make([]float32, 2*c)
		for i := 0; i < c; i++ {
			ss[i] = 1
		}
	}
	ssb := b.upload(ss)
	defer b.free(ssb)
	flags, lo, hi := actFlags(act)
	total := compute.Size(x.shape)
	b.run("affine", []uint32{uint32(c), uint32(plane), uint32(total), flags, f32(lo), f32(hi), mode}, total, nil, out.buf, x.buf, ssb)
	return out
}

func (b *Backend) Affine(x compute.Tensor, scale, shift []float32, act compute.Activation) compute.Tensor {
	return b.affine(x.(*Tensor), append(append([]float32(nil), scale...), shift...), act, 0)
}

func (b *Backend) Activate(x compute.Tensor, act compute.Activation) compute.Tensor {
	return b.affine(x.(*Tensor), nil, act, 0)
}

func (b *Backend) Sigmoid(x compute.Tensor) compute.Tensor {
	return b.affine(x.(*Tensor), nil, compute.Identity, 1)
}

func (b *Backend) Binary(op compute.BinaryOp, x, y compute.Tensor, outShape []int) compute.Tensor {
	l, r := x.(*Tensor), y.(*Tensor)
	if len(outShape) > 4 {
		b.fail(fmt.Errorf("webgpu: broadcasting over %d dimensions (at most 4)", len(outShape)))
		return b.alloc(outShape)
	}
	out := b.alloc(outShape)
	dims := pad4(outShape)
	as, bs := pad4(strides(l.shape, outShape)), pad4(strides(r.shape, outShape))
	params := make([]uint32, 0, 16)
	for _, v := range dims {
		params = append(params, uint32(v))
	}
	for _, v := range as {
		params = append(params, uint32(v))
	}
	for _, v := range bs {
		params = append(params, uint32(v))
	}
	total := compute.Size(outShape)
	params = append(params, uint32(total), uint32(op))
	b.run("binary", params, total, nil, out.buf, l.buf, r.buf)
	return out
}

// strides gives, for each axis of out, the stride of shape's matching axis,
// or 0 where shape is broadcast along it.
func strides(shape, out []int) []int {
	st := make([]int, len(out))
	off := len(out) - len(shape)
	s := 1
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] != 1 {
			st[d+off] = s
		}
		s *= shape[d]
	}
	return st
}

// pad4 left-pads dimensions to four (size 1, stride 0).
func pad4(v []int) [4]int {
	var out [4]int
	off := 4 - len(v)
	for i := 0; i < off; i++ {
		out[i] = 1
	}
	copy(out[off:], v)
	return out
}

func (b *Backend) Pool(x compute.Tensor, s compute.PoolSpec) compute.Tensor {
	in := x.(*Tensor)
	n, c, h, w := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := s.OutSize(h, w)
	out := b.alloc([]int{n, c, oh, ow})
	total := n * c * oh * ow
	cp := uint32(0)
	if s.CountIncludePad {
		cp = 1
	}
	b.run("pool", []uint32{uint32(n * c), uint32(h), uint32(w), uint32(oh), uint32(ow), uint32(s.KH), uint32(s.KW), uint32(s.StrideH),
		uint32(s.StrideW), uint32(s.PadT), uint32(s.PadL), uint32(s.PadB), uint32(s.PadR), uint32(s.Kind), cp, uint32(total)},
		total, nil, out.buf, in.buf)
	return out
}

func (b *Backend) GlobalAvgPool(x compute.Tensor) compute.Tensor {
	in := x.(*Tensor)
	nc := in.shape[0] * in.shape[1]
	out := b.alloc([]int{in.shape[0], in.shape[1], 1, 1})
	b.run("gap", []uint32{uint32(nc), uint32(compute.Size(in.shape[2:]))}, nc, nil, out.buf, in.buf)
	return out
}

func (b *Backend) Concat(axis int, xs []compute.Tensor) compute.Tensor {
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		shapes[i] = x.Shape()
	}
	out := b.alloc(compute.ConcatShape(axis, shapes))
	compute.ConcatBlocks(axis, shapes, func(i, src, dst, n int) {
		b.copy(xs[i].(*Tensor).buf, src, out.buf, dst, n)
	})
	return out
}

func (b *Backend) MatMul(x, y compute.Tensor) compute.Tensor {
	l, r := x.(*Tensor), y.(*Tensor)
	m, k, n := l.shape[0], l.shape[1], r.shape[1]
	out := b.alloc([]int{m, n})
	b.matmul(l.buf, 0, r.buf, 0, n, out.buf, 0, m, n, k, nil, 0, 0, 0, 0)
	return out
}

func (b *Backend) Transpose2D(x compute.Tensor) compute.Tensor {
	in := x.(*Tensor)
	r, c := in.shape[0], in.shape[1]
	out := b.alloc([]int{c, r})
	b.run("transpose", []uint32{uint32(r), uint32(c)}, r*c, nil, out.buf, in.buf)
	return out
}
