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
// the 16 products has the input channels as its depth.
const minWinogradChannels = 32

// winogradable reports whether a convolution runs as F(2x2, 3x3): one
// group, a 3x3 filter, unit stride and dilation, and enough channels,
// where the transforms have vector code (vec.WinogradVector); elsewhere
// (AVX2, wasm) their Go loops would cost about what the products save on
// the smaller layers, so the direct (shifted) product runs.
func winogradable(s compute.ConvSpec) bool {
	return vec.WinogradVector() && s.Group == 1 && s.KH == 3 && s.KW == 3 && s.StrideH == 1 && s.StrideW == 1 &&
		s.DilH == 1 && s.DilW == 1 && s.InC >= minWinogradChannels
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
// the residual (accumulate) and the activation.
func (b *Backend) convWinograd(in, out *Tensor, w *convWeights, act compute.Activation, accumulate bool) {
	s := w.spec
	n, c, h, wd := in.shape[0], in.shape[1], in.shape[2], in.shape[3]
	oh, ow := out.shape[2], out.shape[3]
	th, tw := (oh+1)/2, (ow+1)/2
	tiles := th * tw
	v := b.alloc([]int{16, c, tiles})
	defer b.Release(v)
	m := b.alloc([]int{16, s.OutC, tiles})
	defer b.Release(m)
	lo, hi := bounds(act)
	for img := 0; img < n; img++ {
		src := in.Data[img*c*h*wd : (img+1)*c*h*wd]
		b.winogradInput(v.Data, src, c, h, wd, th, tw, s.PadT, s.PadL)
		b.team.For(16, func(p int) {
			w.groups[p].Mul(m.Data[p*s.OutC*tiles:(p+1)*s.OutC*tiles], tiles, v.Data[p*c*tiles:(p+1)*c*tiles], tiles, tiles, sgemm.Epilogue{}, sgemm.Serial)
		})
		dst := out.Data[img*s.OutC*oh*ow : (img+1)*s.OutC*oh*ow]
		b.parallel(s.OutC, func(o0, o1 int) {
			for o := o0; o < o1; o++ {
				winogradOutput(dst[o*oh*ow:(o+1)*oh*ow], m.Data, o, s.OutC, th, tw, oh, ow, w.bias[o], accumulate, lo, hi)
			}
		})
	}
}

// winogradInput writes V[p][ch][t] = (B^T d B)[p] for every channel's 4x4
// input blocks d, block t = ty*tw + tx starting at padded (2ty, 2tx).
// Each channel is first copied into a zero-padded plane, so that blocks
// reaching into the padding need no bounds checks.
func (b *Backend) winogradInput(v, src []float32, c, h, w, th, tw, padT, padL int) {
	tiles := th * tw
	ph, pw := 2*th+2, 2*tw+2
	b.parallel(c, func(c0, c1 int) {
		// The padding cells stay zero; the slack is read past the last
		// block, never used.
		plane := b.scratch(ph*pw + vec.WinogradInputSlack(tw))
		defer b.putScratch(plane)
		rows := min(h, ph-padT)
		cols := min(w, pw-padL)
		for ch := c0; ch < c1; ch++ {
			vec.CopyRows(plane[padT*pw+padL:], pw, src[ch*h*w:], w, rows, cols)
			for ty := 0; ty < th; ty++ {
				vec.WinogradInputRow(v[ch*tiles+ty*tw:], c*tiles, plane[2*ty*pw:], pw, tw)
			}
		}
	})
}

// winogradOutput writes output channel o's plane from the products m:
// each 2x2 block is A^T m A plus bias, plus what dst holds with
// accumulate, clamped to [lo, hi]; blocks past the plane's last row or
// column (an odd size) are cut.
func winogradOutput(dst, m []float32, o, outC, th, tw, oh, ow int, bias float32, accumulate bool, lo, hi float32) {
	tiles := th * tw
	for ty := 0; ty < th; ty++ {
		rows := min(2, oh-2*ty)
		vec.WinogradOutputRow(dst[2*ty*ow:], ow, rows, ow, m[o*tiles+ty*tw:], outC*tiles, tw, bias, accumulate, lo, hi)
	}
}
