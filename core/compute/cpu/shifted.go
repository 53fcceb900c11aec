package cpu

import (
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// minShiftedRows is the fewest input channels for which a convolution
// reads its input in place (sgemm.Shifted) instead of through im2col:
// each filter tap is one depth pass of that many rows, and a pass of a
// few rows (an RGB stem) costs more in calls than im2col saves.
const minShiftedRows = 16

// shiftable reports whether a convolution reads its input in place:
// unit dilation, one group, a filter wider than one pixel and a stride of
// 1 or 2 in both directions.
func shiftable(s compute.ConvSpec) bool {
	return s.Group == 1 && s.DilH == 1 && s.DilW == 1 && s.StrideH == s.StrideW &&
		s.StrideH <= 2 && s.KH*s.KW > 1 && s.InC >= minShiftedRows
}

// packTapMajor packs OIHW weights with the depth ordered tap by tap
// (k = tap*InC + channel), the order in which a shifted input holds them.
func packTapMajor(s compute.ConvSpec, weight []float32) *sgemm.Packed {
	taps := s.KH * s.KW
	k := s.InC * taps
	a := make([]float32, s.OutC*k)
	for o := 0; o < s.OutC; o++ {
		for c := 0; c < s.InC; c++ {
			for t := 0; t < taps; t++ {
				a[o*k+t*s.InC+c] = weight[(o*s.InC+c)*taps+t]
			}
		}
	}
	return sgemm.Pack(a, s.OutC, k)
}

// shiftedLayout is where a shifted convolution keeps its input: each
// channel padded (and, for stride 2, split into four phase planes, as the
// depthwise convolution does), so that filter tap t reads output position
// (oy, ox) at offsets[t] + oy*pw + ox of the channel's block. The output
// is computed at width pw, cols columns in all (a multiple of 16); the
// columns past ow are dropped.
type shiftedLayout struct {
	st, pw, phase, stride, cols int
	offsets                     []int
}

func newShiftedLayout(s compute.ConvSpec, h, w, oh int) shiftedLayout {
	st := s.StrideH
	hp, wp := h+s.PadT+s.PadB, w+s.PadL+s.PadR
	ph, pw := (hp+st-1)/st, (wp+st-1)/st
	l := shiftedLayout{st: st, pw: pw, cols: roundUp(oh*pw, 16)}
	// A phase plane holds its rows and whatever the last tap reads past
	// them for the dropped columns.
	maxOff := (s.KH-1)/st*pw + (s.KW-1)/st
	l.phase = roundUp(max(ph*pw, maxOff+l.cols), 16)
	l.stride = st * st * l.phase
	if l.stride%512 == 0 {
		// Channel blocks a multiple of 2 KiB apart would share cache sets.
		l.stride += 16
	}
	for ky := 0; ky < s.KH; ky++ {
		for kx := 0; kx < s.KW; kx++ {
			l.offsets = append(l.offsets, ((ky%st)*st+kx%st)*l.phase+(ky/st)*pw+kx/st)
		}
	}
	return l
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// fill writes one image's c x h x w planes into their padded (or phase)
// positions; the padding cells are zero from the start and never written.
func (l *shiftedLayout) fill(b *Backend, dst, src []float32, s compute.ConvSpec, c, h, w int) {
	b.parallel(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			padInto(dst[ch*l.stride:(ch+1)*l.stride], src[ch*h*w:(ch+1)*h*w], h, w, l.st, l.pw, l.phase, s.PadT, s.PadL)
		}
	})
}

// padInto writes an h x w plane into its padded place in dst, rows pw
// apart after padT rows and padL columns of padding; for stride 2 it
// splits it into the four phase planes of phase values each, padded
// pixel (py, px) going to phase (py%2, px%2) at (py/2, px/2). The
// padding cells are left as they are (zero, in a scratch buffer).
func padInto(dst, plane []float32, h, w, st, pw, phase, padT, padL int) {
	if st == 1 {
		vec.CopyRows(dst[padT*pw+padL:], pw, plane, w, h, w)
		return
	}
	pe, po := padL%2, (padL+1)%2 // the phases of even and odd columns
	for y := 0; y < h; y++ {
		py := y + padT
		row := (py % 2) * 2 * phase
		even := dst[row+pe*phase+(py/2)*pw+padL/2:]
		odd := dst[row+po*phase+(py/2)*pw+(padL+1)/2:]
		vec.Deinterleave(even, odd, plane[y*w:(y+1)*w])
	}
}

// convShifted is conv for a shiftable convolution: the image's planes are
// laid out once, the product reads every tap from them in place, and the
// output rows are copied out without their extra columns (or added to
// out, then activated, with accumulate).
func (b *Backend) convShifted(in, out *Tensor, w *convWeights, act compute.Activation, accumulate bool) {
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	l := newShiftedLayout(s, h, wd, oh)
	planes := b.scratch(c * l.stride)
	defer b.putScratch(planes)
	wide := b.alloc([]int{sgemm.PanelRows(s.OutC), l.cols})
	defer b.Release(wide)
	sh := sgemm.Shifted{Offsets: l.offsets, Rows: c, Stride: l.stride}
	ep := sgemm.Epilogue{Bias: w.bias, Clamp: act.Clamp, Min: act.Min, Max: act.Max}
	if accumulate {
		// The activation follows the sum.
		ep.Clamp = false
	}
	actLo, actHi := bounds(act)
	for img := 0; img < n; img++ {
		l.fill(b, planes, in.Data[img*c*h*wd:(img+1)*c*h*wd], s, c, h, wd)
		w.groups[0].MulShifted(wide.Data, l.cols, planes, sh, l.cols, ep, b.team)
		dst := out.Data[img*s.OutC*oh*ow : (img+1)*s.OutC*oh*ow]
		b.parallel(s.OutC, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				for oy := 0; oy < oh; oy++ {
					row := dst[(o*oh+oy)*ow : (o*oh+oy+1)*ow]
					src := wide.Data[o*l.cols+oy*l.pw:][:ow]
					if !accumulate {
						copy(row, src)
						continue
					}
					vec.Add(row, row, src)
					if act.Clamp {
						vec.ScaleShiftClamp(row, row, 1, 0, actLo, actHi)
					}
				}
			}
		})
	}
}

// gatherable reports whether a convolution with too few input channels to
// be shiftable (an RGB stem) makes its product's panels from the padded
// input planes instead of through im2col.
func gatherable(s compute.ConvSpec) bool {
	return s.Group == 1 && s.DilH == 1 && s.DilW == 1 && s.StrideH == s.StrideW &&
		s.StrideH <= 2 && s.KH*s.KW > 1 && !shiftable(s)
}

// gathered makes a convolution's B panels (sgemm.Panels) from the input
// planes of a shiftedLayout: row r (channel r/taps, filter tap r%taps)
// starts at rowOff[r] of the planes, and output position q = oy*ow + ox
// reads it at oy*pw + ox.
type gathered struct {
	planes    []float32
	rowOff    []int
	pw, ow, n int
}

func (g *gathered) Panel(dst []float32, j, p0, kl int) {
	rows := g.rowOff[p0 : p0+kl]
	for q := j; q < j+16; {
		oy, ox := q/g.ow, q%g.ow
		seg := min(j+16, (oy+1)*g.ow, g.n) - q // columns of this output row
		col := q - j
		if seg <= 0 {
			// Past B's last column.
			for r := range rows {
				clear(dst[r*16+col : r*16+16])
			}
			return
		}
		at := oy*g.pw + ox
		if seg == 16 {
			vec.Gather16(dst, g.planes, rows, at)
		} else {
			for r, off := range rows {
				copy(dst[r*16+col:r*16+col+seg], g.planes[off+at:])
			}
		}
		q += seg
	}
}

// convGathered is conv for a gatherable convolution: each image's planes
// are laid out once and the product makes its panels from them.
func (b *Backend) convGathered(in, out *Tensor, w *convWeights, act compute.Activation, accumulate bool) {
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	l := newShiftedLayout(s, h, wd, oh)
	planes := b.scratch(c * l.stride)
	defer b.putScratch(planes)
	taps := s.KH * s.KW
	g := &gathered{planes: planes, rowOff: make([]int, c*taps), pw: l.pw, ow: ow, n: oh * ow}
	for r := range g.rowOff {
		g.rowOff[r] = r/taps*l.stride + l.offsets[r%taps]
	}
	ep := sgemm.Epilogue{Bias: w.bias, Clamp: act.Clamp, Min: act.Min, Max: act.Max, Accumulate: accumulate}
	for img := 0; img < n; img++ {
		l.fill(b, planes, in.Data[img*c*h*wd:(img+1)*c*h*wd], s, c, h, wd)
		dst := out.Data[img*s.OutC*oh*ow : (img+1)*s.OutC*oh*ow]
		w.groups[0].MulPanels(dst, oh*ow, g, oh*ow, ep, b.team)
	}
}
