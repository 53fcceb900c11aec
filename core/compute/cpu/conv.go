package cpu

import (
	"fmt"
	"slices"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// convWeights holds a convolution's weights packed for the GEMM, one
// packed matrix per group, or kept as is for depthwise convolutions.
type convWeights struct {
	spec   compute.ConvSpec
	groups []*sgemm.Packed // per group: (OutC/Group) x (InC/Group*KH*KW)
	raw    []float32       // OIHW, for the depthwise kernel
	bias   []float32       // OutC values, zeros when the model has none
	// shifted: groups[0] is packed tap-major for convShifted.
	shifted bool
	// gathered: convGathered makes the product's panels.
	gathered bool
	// winograd: groups holds the 16 transformed filter matrices of
	// convWinograd.
	winograd bool
}

func (w *convWeights) Spec() compute.ConvSpec { return w.spec }

func (w *convWeights) depthwise() bool {
	s := w.spec
	return s.Group > 1 && s.Group == s.InC && s.Group == s.OutC
}

func (b *Backend) PrepareConv(spec compute.ConvSpec, weight, bias []float32) compute.Weights {
	w := &convWeights{spec: spec, bias: bias}
	if w.bias == nil {
		w.bias = make([]float32, spec.OutC)
	}
	if w.depthwise() {
		w.raw = weight
		return w
	}
	if winogradable(spec) && !b.im2colOnly && !b.noWinograd {
		w.groups = packWinograd(spec, weight)
		w.winograd = true
		return w
	}
	if shiftable(spec) && !b.im2colOnly {
		w.groups = []*sgemm.Packed{packTapMajor(spec, weight)}
		w.shifted = true
		return w
	}
	w.gathered = gatherable(spec) && !b.im2colOnly
	og := spec.OutC / spec.Group
	k := spec.InC / spec.Group * spec.KH * spec.KW
	for g := 0; g < spec.Group; g++ {
		w.groups = append(w.groups, sgemm.Pack(weight[g*og*k:(g+1)*og*k], og, k))
	}
	return w
}

func (b *Backend) Conv(x compute.Tensor, wt compute.Weights, act compute.Activation) compute.Tensor {
	in := x.(*Tensor)
	w := wt.(*convWeights)
	out := b.alloc(w.outShape(in.shape))
	b.conv(in, out, w, act, false)
	return out
}

func (w *convWeights) outShape(in []int) []int {
	oh, ow := w.spec.OutSize(in[2], in[3])
	return []int{in[0], w.spec.OutC, oh, ow}
}

// ConvAdd adds r where the product writes its output (sgemm's Accumulate),
// in r's memory when it may be reused; the depthwise and shifted paths,
// which write their output in a pass of their own, add it there.
func (b *Backend) ConvAdd(x compute.Tensor, wt compute.Weights, r compute.Tensor, act compute.Activation, reuse bool) compute.Tensor {
	in, res := x.(*Tensor), r.(*Tensor)
	w := wt.(*convWeights)
	shape := w.outShape(in.shape)
	if !slices.Equal(res.shape, shape) {
		panic(fmt.Sprintf("cpu: residual of shape %v for a convolution output of %v", res.shape, shape))
	}
	if w.depthwise() {
		out := b.alloc(shape)
		b.depthwise(in, out, w, compute.Identity)
		vec.Add(out.Data, out.Data, res.Data)
		if act.Clamp {
			vec.ScaleShiftClamp(out.Data, out.Data, 1, 0, act.Min, act.Max)
		}
		return out
	}
	out := res
	if !reuse {
		out = b.alloc(shape)
		copy(out.Data, res.Data)
	}
	b.conv(in, out, w, act, true)
	return out
}

// conv writes act(conv(in) + bias), with what out holds added before the
// activation when accumulate is set (for all but depthwise weights, which
// ConvAdd adds to itself).
func (b *Backend) conv(in, out *Tensor, w *convWeights, act compute.Activation, accumulate bool) {
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	if w.depthwise() {
		b.depthwise(in, out, w, act)
		return
	}
	if w.winograd {
		b.convWinograd(in, out, w, act, accumulate)
		return
	}
	if w.shifted {
		b.convShifted(in, out, w, act, accumulate)
		return
	}
	if w.gathered {
		b.convGathered(in, out, w, act, accumulate)
		return
	}
	cg := c / s.Group
	og := s.OutC / s.Group
	k := cg * s.KH * s.KW
	var cols *Tensor
	if !pointwise(s) {
		cols = b.alloc([]int{k, oh * ow})
		defer b.Release(cols)
	}
	ep := sgemm.Epilogue{Clamp: act.Clamp, Min: act.Min, Max: act.Max, Accumulate: accumulate}
	for img := 0; img < n; img++ {
		for g := 0; g < s.Group; g++ {
			src := in.Data[(img*c+g*cg)*h*wd : (img*c+(g+1)*cg)*h*wd]
			bmat := src
			if !pointwise(s) {
				b.im2col(src, cg, h, wd, oh, ow, s, cols.Data)
				bmat = cols.Data
			}
			dst := out.Data[(img*s.OutC+g*og)*oh*ow : (img*s.OutC+(g+1)*og)*oh*ow]
			ep.Bias = w.bias[g*og : (g+1)*og]
			w.groups[g].Mul(dst, oh*ow, bmat, oh*ow, oh*ow, ep, b.team)
		}
	}
}

// im2col lays the receptive fields of a C x H x W image out as a
// (C*KH*KW) x (OH*OW) matrix, zero where a window reaches into padding.
func (b *Backend) im2col(src []float32, c, h, w, oh, ow int, s compute.ConvSpec, dst []float32) {
	rows := c * s.KH * s.KW
	b.parallel(rows, func(lo, hi int) {
		var odd []float32 // stride 2: the deinterleave's other half
		if s.StrideW == 2 {
			odd = b.scratch(ow)
			defer b.putScratch(odd)
		}
		for r := lo; r < hi; r++ {
			ch := r / (s.KH * s.KW)
			ky := r / s.KW % s.KH
			kx := r % s.KW
			plane := src[ch*h*w : (ch+1)*h*w]
			row := dst[r*oh*ow : (r+1)*oh*ow]
			x0, x1 := validRange(ow, w, s.StrideW, kx*s.DilW-s.PadL)
			for oy := 0; oy < oh; oy++ {
				iy := oy*s.StrideH + ky*s.DilH - s.PadT
				o := row[oy*ow : (oy+1)*ow]
				if iy < 0 || iy >= h {
					clear(o)
					continue
				}
				line := plane[iy*w : (iy+1)*w]
				clear(o[:x0])
				clear(o[x1:])
				ix := x0*s.StrideW + kx*s.DilW - s.PadL
				if s.StrideW == 1 {
					copy(o[x0:x1], line[ix:])
					continue
				}
				if s.StrideW == 2 && x1 > x0 {
					// Every other input: the even half of a deinterleave
					// (a SIMD loop), the last one alone when its pair would
					// run past the line.
					cnt := x1 - x0
					pairs := min(cnt, (len(line)-ix)/2)
					vec.Deinterleave(o[x0:x0+pairs], odd[:pairs], line[ix:ix+2*pairs])
					for ox := x0 + pairs; ox < x1; ox++ {
						o[ox] = line[ix+2*(ox-x0)]
					}
					continue
				}
				for ox := x0; ox < x1; ox++ {
					o[ox] = line[ix]
					ix += s.StrideW
				}
			}
		}
	})
}

// validRange returns the output positions [lo, hi) whose input position
// o*stride+off falls inside [0, size).
func validRange(outSize, size, stride, off int) (lo, hi int) {
	lo = 0
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	hi = outSize
	if last := (size - 1 - off); last < 0 {
		hi = 0
	} else if h := last/stride + 1; h < hi {
		hi = h
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// ConvExpanded runs a 1x1 convolution and the depthwise convolution of its
// output a few channels at a time: each task expands its channels of one
// image into a buffer of at most 256 KiB (the product on one core) and
// convolves them from there, so the expansion is never written out whole.
// Other pairs run one after the other.
func (b *Backend) ConvExpanded(x compute.Tensor, et compute.Weights, eAct compute.Activation, dt compute.Weights, act compute.Activation) compute.Tensor {
	in := x.(*Tensor)
	ew, dw := et.(*convWeights), dt.(*convWeights)
	if !pointwise(ew.spec) || ew.spec.Group != 1 || !dw.depthwise() || !planeWise(dw.spec) || ew.spec.OutC != dw.spec.InC {
		mid := b.Conv(x, et, eAct)
		defer b.Release(mid)
		return b.Conv(mid, dt, act)
	}
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	mid := ew.spec.OutC
	out := b.alloc(dw.outShape([]int{n, mid, h, wd}))
	oh, ow := out.shape[2], out.shape[3]
	p := newDWPlanes(dw.spec, h, wd, oh, ow, act)
	// Channels a task: twelve rows at a time (the AVX-512 kernel's
	// calls), a buffer within 256 KiB where more fit (twelve planes of
	// 112x112 take 588 KiB, still in L2: 2.8% off MobileNetV2's pass
	// against six), and enough tasks for every worker to take several.
	chunk := max(12, min(65536/(h*wd)/12*12, roundUp((mid+4*b.workers-1)/(4*b.workers), 12)))
	chunks := (mid + chunk - 1) / chunk
	b.team.For(n*chunks, func(t int) {
		img, c0 := t/chunks, t%chunks*chunk
		c1 := min(c0+chunk, mid)
		exp := b.alloc([]int{c1 - c0, h * wd})
		defer b.Release(exp)
		buf := b.scratch(p.scratch())
		defer b.putScratch(buf)
		ep := sgemm.Epilogue{Bias: ew.bias[c0:c1], Clamp: eAct.Clamp, Min: eAct.Min, Max: eAct.Max}
		src := in.Data[img*c*h*wd : (img+1)*c*h*wd]
		ew.groups[0].Rows(c0, c1).Mul(exp.Data, h*wd, src, h*wd, h*wd, ep, sgemm.Serial)
		for ch := c0; ch < c1; ch++ {
			dst := out.Data[(img*mid+ch)*oh*ow : (img*mid+ch+1)*oh*ow]
			p.channel(dst, exp.Data[(ch-c0)*h*wd:(ch-c0+1)*h*wd], buf, dw, ch)
		}
	})
	return out
}

// pointwise reports whether s is a 1x1 convolution of stride 1 without
// padding, whose product reads its input as is.
func pointwise(s compute.ConvSpec) bool {
	return s.KH == 1 && s.KW == 1 && s.StrideH == 1 && s.StrideW == 1 &&
		s.PadT == 0 && s.PadL == 0 && s.PadB == 0 && s.PadR == 0
}

// depthwise convolves each channel with its own filter. With unit
// dilation and stride 1 or 2 it pads the plane (and for stride 2 splits it
// into four phase planes) so that every filter tap becomes one long
// contiguous multiply-add over the whole output plane; the output is
// computed at the padded width and the extra columns are dropped.
func (b *Backend) depthwise(in, out *Tensor, w *convWeights, act compute.Activation) {
	s := w.spec
	if !planeWise(s) {
		b.depthwiseDirect(in, out, w, act)
		return
	}
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	p := newDWPlanes(s, h, wd, oh, ow, act)
	b.parallel(n*c, func(first, end int) {
		buf := b.scratch(p.scratch())
		defer b.putScratch(buf)
		for nc := first; nc < end; nc++ {
			p.channel(out.Data[nc*oh*ow:(nc+1)*oh*ow], in.Data[nc*h*wd:(nc+1)*h*wd], buf, w, nc%c)
		}
	})
}

// planeWise reports whether depthwise's plane-wide path takes s.
func planeWise(s compute.ConvSpec) bool {
	return s.DilH == 1 && s.DilW == 1 && s.StrideH == s.StrideW && s.StrideH <= 2
}

// dwPlanes is the plane-wide depthwise convolution's geometry for one
// input size: phase planes ph x pw, plus one spare row that absorbs the
// reads of the dropped columns past the last row.
type dwPlanes struct {
	s                               compute.ConvSpec
	h, w, oh, ow, st, ph, pw, phase int
	offs                            [9]int
	lo, hi                          float32
}

func newDWPlanes(s compute.ConvSpec, h, w, oh, ow int, act compute.Activation) *dwPlanes {
	st := s.StrideH
	hp, wp := h+s.PadT+s.PadB, w+s.PadL+s.PadR
	p := &dwPlanes{s: s, h: h, w: w, oh: oh, ow: ow, st: st, ph: (hp + st - 1) / st, pw: (wp + st - 1) / st}
	p.phase = (p.ph + 1) * p.pw
	p.lo, p.hi = bounds(act)
	if s.KH == 3 && s.KW == 3 {
		for t := range p.offs {
			p.offs[t] = p.tap(t/3, t%3)
		}
	}
	return p
}

// tap is where filter tap (ky, kx) starts in the phase planes.
func (p *dwPlanes) tap(ky, kx int) int {
	st := p.st
	return ((ky%st)*st+kx%st)*p.phase + (ky/st)*p.pw + kx/st
}

// scratch is the floats channel needs: the phase planes, then the sums.
// Their padding cells are never written, so zeroing them once serves
// every channel.
func (p *dwPlanes) scratch() int { return p.st*p.st*p.phase + p.oh*p.pw }

// channel convolves one plane with channel ch's filter into dst.
func (p *dwPlanes) channel(dst, plane, buf []float32, w *convWeights, ch int) {
	s := p.s
	phases, acc := buf[:p.st*p.st*p.phase], buf[p.st*p.st*p.phase:]
	padInto(phases, plane, p.h, p.w, p.st, p.pw, p.phase, s.PadT, s.PadL)
	filt := w.raw[ch*s.KH*s.KW : (ch+1)*s.KH*s.KW]
	if s.KH == 3 && s.KW == 3 {
		// All nine taps, the bias and the clamp in one pass, row by row
		// into dst.
		vec.Taps9Rows(dst, p.ow, phases, p.pw, p.oh, p.ow, &p.offs, filt, w.bias[ch], p.lo, p.hi)
		return
	}
	clear(acc)
	for ky := 0; ky < s.KH; ky++ {
		for kx := 0; kx < s.KW; kx++ {
			vec.Axpy(filt[ky*s.KW+kx], phases[p.tap(ky, kx):], acc)
		}
	}
	vec.ScaleShiftClampRows(dst, p.ow, acc, p.pw, p.oh, p.ow, 1, w.bias[ch], p.lo, p.hi)
}

// depthwiseDirect is the general depthwise convolution (any stride and
// dilation), accumulating whole output rows.
func (b *Backend) depthwiseDirect(in, out *Tensor, w *convWeights, act compute.Activation) {
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	lo, hi := bounds(act)
	b.parallel(n*c, func(first, end int) {
		for nc := first; nc < end; nc++ {
			ch := nc % c
			plane := in.Data[nc*h*wd : (nc+1)*h*wd]
			dst := out.Data[nc*oh*ow : (nc+1)*oh*ow]
			filt := w.raw[ch*s.KH*s.KW : (ch+1)*s.KH*s.KW]
			clear(dst)
			for ky := 0; ky < s.KH; ky++ {
				for kx := 0; kx < s.KW; kx++ {
					wv := filt[ky*s.KW+kx]
					x0, x1 := validRange(ow, wd, s.StrideW, kx*s.DilW-s.PadL)
					if x0 >= x1 {
						continue
					}
					for oy := 0; oy < oh; oy++ {
						iy := oy*s.StrideH + ky*s.DilH - s.PadT
						if iy < 0 || iy >= h {
							continue
						}
						ix := x0*s.StrideW + kx*s.DilW - s.PadL
						o := dst[oy*ow+x0 : oy*ow+x1]
						line := plane[iy*wd:]
						for i := range o {
							o[i] += wv * line[ix]
							ix += s.StrideW
						}
					}
				}
			}
			vec.ScaleShiftClamp(dst, dst, 1, w.bias[ch], lo, hi)
		}
	})
}
