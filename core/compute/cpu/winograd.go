package cpu

import (
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// Winograd's F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016) computes each 2x2 block of a 3x3,
// stride-1 convolution's output from a 4x4 block of its input with 16
// products per channel pair instead of 36: the input blocks and the
// filters are transformed, the 16 transformed positions are 16 ordinary
// matrix products over the channels, and the products are transformed
// back. Its input and output transforms add and subtract only, and its
// filter transform halves, so it rounds much as the direct sum does
// (unlike the larger F(4x4, 3x3), whose transforms scale by up to 8).

// minWinogradChannels is the fewest input channels for which the
// transform's passes over memory pay for the products they save: each of
// the 16 products has the input channels as its depth. Where the
// transforms have no vector code they run as Go loops, which pay only
// from minWinogradChannelsGo on: with AVX2 products and Go transforms on
// the AMD machine of 2026-12-02, ResNet's 128- and 256-channel layers
// 1.20x and 1.29x faster than the shifted product, its 64-channel one
// 0.83x.
const (
	minWinogradChannels   = 32
	minWinogradChannelsGo = 128
)

// winogradable reports whether a convolution runs as F(2x2, 3x3): one
// group, a 3x3 filter, unit stride and dilation, and enough channels for
// the transforms at hand (vec.WinogradVector: AVX-512, AVX2 or the wasm
// SIMD kernels; Go loops elsewhere).
func winogradable(s compute.ConvSpec) bool {
	least := minWinogradChannelsGo
	if vec.WinogradVector() {
		least = minWinogradChannels
	}
	return s.Group == 1 && s.KH == 3 && s.KW == 3 && s.StrideH == 1 && s.StrideW == 1 &&
		s.DilH == 1 && s.DilW == 1 && s.InC >= least
}

// packWinograd transforms OIHW 3x3 filters into the 16 matrices
// U[p] = (G g G^T)[p] (OutC x InC each), computed in float64 and packed
// for the products.
func packWinograd(s compute.ConvSpec, weight []float32) []*sgemm.Packed {
	u := make([][]float32, 16)
	for p := range u {
		u[p] = make([]float32, s.OutC*s.InC)
	}
	g := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	for oc := 0; oc < s.OutC*s.InC; oc++ {
		f := weight[oc*9 : oc*9+9]
		var gg [4][3]float64 // G g
		for i := 0; i < 4; i++ {
			for j := 0; j < 3; j++ {
				for k := 0; k < 3; k++ {
					gg[i][j] += g[i][k] * float64(f[k*3+j])
				}
			}
		}
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				var v float64 // (G g G^T)[i][j]
				for k := 0; k < 3; k++ {
					v += gg[i][k] * g[j][k]
				}
				u[i*4+j][oc] = float32(v)
			}
		}
	}
	packed := make([]*sgemm.Packed, 16)
	for p := range packed {
		packed[p] = sgemm.Pack(u[p], s.OutC, s.InC)
	}
	return packed
}

// convWinograd is conv for winogradable weights: per image, the input
// transform V = B^T d B of every 4x4 block (tiles 2 apart), the 16
// products M[p] = U[p] x V[p], then Y = A^T m A per block, with bias,
// the residual (accumulate) and the activation, each step on all
// workers. (Running the three steps per block of tiles on one worker, to
// keep V and M in its L2 cache, measured no faster for ResNet's first
// layer and 10% slower for its second.)
func (b *Backend) convWinograd(in, out *Tensor, w *convWeights, act compute.Activation, accumulate bool) {
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	l := winogradLayout{c: c, outC: s.OutC, th: (oh + 1) / 2, tw: (ow + 1) / 2, oh: oh, ow: ow}
	l.ph, l.pw = 2*l.th+2, 2*l.tw+2
	v := b.alloc([]int{16 * l.vStride()})
	defer b.Release(v)
	m := b.alloc([]int{16 * l.mStride()})
	defer b.Release(m)
	lo, hi := bounds(act)
	rows, cols := min(h, l.ph-s.PadT), min(wd, l.pw-s.PadL)
	for img := 0; img < n; img++ {
		src := in.Data[img*c*h*wd : (img+1)*c*h*wd]
		dst := out.Data[img*s.OutC*oh*ow : (img+1)*s.OutC*oh*ow]
		b.parallel(c, func(c0, c1 int) {
			// Each channel copied into a zero-padded plane (its padding
			// cells stay zero), so that no block needs bounds checks; the
			// slack is what the last block row may read past its blocks
			// (WinogradInputSlack), never used.
			plane := b.scratch(l.ph*l.pw + vec.WinogradInputSlack(l.tw))
			defer b.putScratch(plane)
			for ch := c0; ch < c1; ch++ {
				vec.CopyRows(plane[s.PadT*l.pw+s.PadL:], l.pw, src[ch*h*wd:], wd, rows, cols)
				l.input(v.Data[ch*l.th*l.tw:], plane)
			}
		})
		b.team.For(16, func(p int) { l.product(w.groups[p], m.Data, v.Data, p) })
		b.parallel(s.OutC, func(o0, o1 int) {
			for o := o0; o < o1; o++ {
				l.output(dst, m.Data, o, w.bias[o], accumulate, lo, hi)
			}
		})
	}
}

// winogradLayout is one image's F(2x2, 3x3) geometry: th x tw tiles over
// the oh x ow output, and each channel's zero-padded ph x pw input plane,
// in which tile (ty, tx) is the 4x4 block at (2ty, 2tx). Tile t = ty*tw +
// tx is column t of V[p][ch] and M[p][o], the 16 matrices positionStride
// apart.
type winogradLayout struct {
	c, outC, th, tw, oh, ow, ph, pw int
}

// positionStride is how far apart the 16 matrices of rows x n lie:
// their size rounded up to an odd number of 64-byte lines, so that the
// transforms' 16 accesses to one block column fall in 16 different cache
// sets (ResNet's 64 x 784 matrices are a multiple of 4 KiB: as is, all
// 16 would share one set).
func positionStride(rows, n int) int {
	lines := (rows*n + 15) / 16
	if lines%2 == 0 {
		lines++
	}
	return lines * 16
}

// vStride and mStride are positionStride for V and M.
func (l *winogradLayout) vStride() int { return positionStride(l.c, l.th*l.tw) }
func (l *winogradLayout) mStride() int { return positionStride(l.outC, l.th*l.tw) }

// input writes one channel's rows of V (v starts at V[0][ch]) from its
// padded plane.
func (l *winogradLayout) input(v, plane []float32) {
	for ty := 0; ty < l.th; ty++ {
		vec.WinogradInputRow(v[ty*l.tw:], l.vStride(), plane[2*ty*l.pw:], l.pw, l.tw)
	}
}

// product sets M[p] = U[p] x V[p] on the calling goroutine.
func (l *winogradLayout) product(u *sgemm.Packed, m, v []float32, p int) {
	tiles, vs, ms := l.th*l.tw, l.vStride(), l.mStride()
	u.Mul(m[p*ms:p*ms+l.outC*tiles], tiles, v[p*vs:p*vs+l.c*tiles], tiles, tiles, sgemm.Epilogue{}, sgemm.Serial)
}

// output writes output channel o's plane of dst (the image's planes):
// A^T m A plus bias, plus what dst holds with accumulate, clamped to
// [lo, hi]; what lies past the plane's last row or column (an odd size)
// is cut.
func (l *winogradLayout) output(dst, m []float32, o int, bias float32, accumulate bool, lo, hi float32) {
	tiles, plane := l.th*l.tw, dst[o*l.oh*l.ow:]
	for ty := 0; ty < l.th; ty++ {
		rows := min(2, l.oh-2*ty)
		vec.WinogradOutputRow(plane[2*ty*l.ow:], l.ow, rows, l.ow, m[o*tiles+ty*l.tw:], l.mStride(), l.tw, bias, accumulate, lo, hi)
	}
}
