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

// conv writes act(conv(in) + bias), added to what out holds when
// accumulate is set.
func (b *Backend) conv(in, out *Tensor, w *convWeights, act compute.Activation, accumulate bool) {
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	if w.depthwise() {
		b.depthwise(in, out, w, act)
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
	pointwise := s.KH == 1 && s.KW == 1 && s.StrideH == 1 && s.StrideW == 1 &&
		s.PadT == 0 && s.PadL == 0 && s.PadB == 0 && s.PadR == 0
	var cols *Tensor
	if !pointwise {
		cols = b.alloc([]int{k, oh * ow})
		defer b.Release(cols)
	}
	ep := sgemm.Epilogue{Clamp: act.Clamp, Min: act.Min, Max: act.Max, Accumulate: accumulate}
	for img := 0; img < n; img++ {
		for g := 0; g < s.Group; g++ {
			src := in.Data[(img*c+g*cg)*h*wd : (img*c+(g+1)*cg)*h*wd]
			bmat := src
			if !pointwise {
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

// depthwise convolves each channel with its own filter. With unit
// dilation and stride 1 or 2 it pads the plane (and for stride 2 splits it
// into four phase planes) so that every filter tap becomes one long
// contiguous multiply-add over the whole output plane; the output is
// computed at the padded width and the extra columns are dropped.
func (b *Backend) depthwise(in, out *Tensor, w *convWeights, act compute.Activation) {
	s := w.spec
	if s.DilH != 1 || s.DilW != 1 || s.StrideH != s.StrideW || s.StrideH > 2 {
		b.depthwiseDirect(in, out, w, act)
		return
	}
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	st := s.StrideH
	hp, wp := h+s.PadT+s.PadB, wd+s.PadL+s.PadR
	// Phase planes are ph x pw, plus one spare row that absorbs the reads
	// of the dropped columns past the last row.
	ph, pw := (hp+st-1)/st, (wp+st-1)/st
	phase := (ph + 1) * pw
	lo, hi := bounds(act)
	// Where filter tap (ky, kx) starts in the phase planes.
	tap := func(ky, kx int) int { return ((ky%st)*st+kx%st)*phase + (ky/st)*pw + kx/st }
	var offs [9]int
	if s.KH == 3 && s.KW == 3 {
		for t := range offs {
			offs[t] = tap(t/3, t%3)
		}
	}
	b.parallel(n*c, func(first, end int) {
		// Padding cells of the phase planes are never written, so zeroing
		// them once serves every channel.
		phases := b.scratch(st * st * phase)
		defer b.putScratch(phases)
		acc := b.scratch(oh * pw)
		defer b.putScratch(acc)
		for nc := first; nc < end; nc++ {
			ch := nc % c
			plane := in.Data[nc*h*wd : (nc+1)*h*wd]
			// Padded pixel (y+PadT, x+PadL) goes to phase (py%st, px%st)
			// at (py/st, px/st).
			for y := 0; y < h; y++ {
				py := y + s.PadT
				src := plane[y*wd : (y+1)*wd]
				if st == 1 {
					copy(phases[py*pw+s.PadL:], src)
					continue
				}
				// Even source columns land in phase PadL%2, odd ones in the other.
				row := (py % 2) * 2 * phase
				pe, po := s.PadL%2, (s.PadL+1)%2
				even := phases[row+pe*phase+(py/2)*pw+s.PadL/2:]
				odd := phases[row+po*phase+(py/2)*pw+(s.PadL+1)/2:]
				vec.Deinterleave(even, odd, src)
			}
			filt := w.raw[ch*s.KH*s.KW : (ch+1)*s.KH*s.KW]
			if s.KH == 3 && s.KW == 3 {
				// All nine taps in one pass over the plane.
				vec.Taps9(acc, phases, &offs, filt)
			} else {
				clear(acc)
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						vec.Axpy(filt[ky*s.KW+kx], phases[tap(ky, kx):], acc)
					}
				}
			}
			dst := out.Data[nc*oh*ow : (nc+1)*oh*ow]
			vec.ScaleShiftClampRows(dst, ow, acc, pw, oh, ow, 1, w.bias[ch], lo, hi)
		}
	})
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
