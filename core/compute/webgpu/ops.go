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
	// One implicit GEMM per group for the whole batch: the images' pixels
	// are the columns, so a batch is one pass with enough work for a GPU.
	cg, og := c/s.Group, s.OutC/s.Group
	ohw := oh * ow
	for g := 0; g < s.Group; g++ {
		b.matmul(matmulArgs{
			a: w.weight, aOff: g * og * cg * s.KH * s.KW, b: in.buf, bOff: g * cg * h * wd, c: out.buf, cOff: g * og * ohw,
			m: og, n: n * ohw, k: cg * s.KH * s.KW, bias: w.bias, biasOff: g * og, flags: flags | 1, lo: lo, hi: hi,
			conv: &convGeometry{c: c, h: h, w: wd, spec: s, ow: ow, ohw: ohw, ldc: s.OutC},
		})
	}
	return out
}

// convGeometry is how the matrix product reads a convolution's input in
// place (see kernels/matmul.wgsl).
type convGeometry struct {
	c, h, w int // the input's channels (all groups) and size
	spec    compute.ConvSpec
	ow, ohw int // the output's width and pixels per image
	ldc     int // the output's channels (all groups)
}

// matmulArgs are a matrix product C = A x B (+ bias, clamp) on buffers at
// element offsets; B is a matrix ldb wide, or a convolution's input.
type matmulArgs struct {
	a         *wgpu.Buffer
	aOff      int
	b         *wgpu.Buffer
	bOff, ldb int
	c         *wgpu.Buffer
	cOff      int
	m, n, k   int
	bias      *wgpu.Buffer
	biasOff   int
	flags     uint32
	lo, hi    float32
	conv      *convGeometry
}

// bigTiles is the workgroup count (of 64x64 tiles) from which a product
// runs in 128x64 tiles: 8 rows a thread reuse each value read twice as
// often, but halve the workgroups, which small products need to fill a GPU.
const bigTiles = 512

func (b *Backend) matmul(a matmulArgs) {
	if a.bias == nil {
		a.bias = a.a // not read without flag 1, but the binding needs a buffer
	}
	name, rows := "matmul", 64
	if a.m >= 128 && ((a.m+63)/64)*((a.n+63)/64) >= bigTiles {
		name, rows = "matmul8", 128
	}
	conv, geom := uint32(0), [14]uint32{3: 1, 4: 1} // KH = KW = 1: the kernel never divides by 0
	if g := a.conv; g != nil {
		s := g.spec
		conv, geom = 1, [14]uint32{uint32(g.c), uint32(g.h), uint32(g.w), uint32(s.KH), uint32(s.KW), uint32(s.StrideH), uint32(s.StrideW),
			uint32(s.DilH), uint32(s.DilW), uint32(s.PadT), uint32(s.PadL), uint32(g.ow), uint32(g.ohw), uint32(g.ldc)}
	}
	params := append([]uint32{uint32(a.m), uint32(a.n), uint32(a.k), uint32(a.ldb), uint32(a.aOff), uint32(a.bOff), uint32(a.cOff), uint32(a.biasOff),
		a.flags, f32(a.lo), f32(a.hi), conv}, geom[:]...)
	groups := [3]uint32{uint32((a.n + 63) / 64), uint32((a.m + rows - 1) / rows), 1}
	b.run(name, params, 0, &groups, a.c, a.a, a.b, a.bias)
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
	b.matmul(matmulArgs{a: l.buf, b: r.buf, ldb: n, c: out.buf, m: m, n: n, k: k})
	return out
}

func (b *Backend) Transpose2D(x compute.Tensor) compute.Tensor {
	in := x.(*Tensor)
	r, c := in.shape[0], in.shape[1]
	out := b.alloc([]int{c, r})
	b.run("transpose", []uint32{uint32(r), uint32(c)}, r*c, nil, out.buf, in.buf)
	return out
}
