// Package embed turns backbone feature maps into PatchCore patch vectors,
// with the semantics of the reference implementation
// (amazon-science/patchcore-inspection):
//
//  1. every layer is unfolded into 3x3 neighbourhoods with zero padding
//     (torch.nn.Unfold(3, padding=1)), each patch flattened channel-major;
//  2. each layer's flattened patch is reduced to PretrainDim values by 1-D
//     adaptive average pooling;
//  3. layers on a coarser grid are upsampled bilinearly (align_corners=False)
//     to the first layer's grid;
//  4. the per-layer vectors are concatenated and pooled again to TargetDim.
//
// Steps 2 and 3 are both linear and act on different axes, so pooling
// before upsampling gives the reference's result at a fraction of the cost.
package embed

import (
	"fmt"
	"runtime"

	"github.com/tessera/tessera/core/compute/cpu/vec"
	"github.com/tessera/tessera/core/internal/parallel"
)

// Config sets PatchCore's embedding sizes.
type Config struct {
	PatchSize   int `json:"patch_size"`   // neighbourhood side (3)
	PretrainDim int `json:"pretrain_dim"` // per-layer size after pooling (1024)
	TargetDim   int `json:"target_dim"`   // final patch vector size (1024)
}

// Default is the reference's configuration.
func Default() Config { return Config{PatchSize: 3, PretrainDim: 1024, TargetDim: 1024} }

// Validate reports sizes that cannot work.
func (c Config) Validate() error {
	if c.PatchSize < 1 || c.PatchSize%2 == 0 {
		return fmt.Errorf("embed: patch size %d must be odd and positive", c.PatchSize)
	}
	if c.PretrainDim < 1 || c.TargetDim < 1 {
		return fmt.Errorf("embed: dimensions %d and %d must be positive", c.PretrainDim, c.TargetDim)
	}
	return nil
}

// Layer is one image's feature map: C x H x W row-major.
type Layer struct {
	C, H, W int
	Data    []float32
}

// Patches returns one image's patch vectors, patch-major: rows of
// TargetDim values for each position of the first layer's H x W grid.
func (c Config) Patches(layers []Layer) ([]float32, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("embed: no feature layers")
	}
	ref := layers[0]
	per := make([][]float32, len(layers))
	for i, l := range layers {
		if len(l.Data) != l.C*l.H*l.W {
			return nil, fmt.Errorf("embed: layer %d has %d values for shape %dx%dx%d", i, len(l.Data), l.C, l.H, l.W)
		}
		pooled := c.unfoldPool(l)
		if l.H != ref.H || l.W != ref.W {
			pooled = Upsample(pooled, c.PretrainDim, l.H, l.W, ref.H, ref.W)
		}
		per[i] = pooled
	}
	// Concatenate the layers per patch and pool to the target size.
	n := ref.H * ref.W
	out := make([]float32, n*c.TargetDim)
	bins := NewBins(len(layers)*c.PretrainDim, c.TargetDim)
	cat := make([]float32, len(layers)*c.PretrainDim)
	for p := 0; p < n; p++ {
		for i := range per {
			copy(cat[i*c.PretrainDim:], per[i][p*c.PretrainDim:(p+1)*c.PretrainDim])
		}
		bins.Pool(out[p*c.TargetDim:(p+1)*c.TargetDim], cat)
	}
	return out, nil
}

// unfoldPool gathers each position's zero-padded neighbourhood, flattened
// as PyTorch's Unfold orders it (channel, then row, then column), and
// pools it to PretrainDim values: an H*W x PretrainDim matrix.
//
// It works a plane at a time: unfolded value j of every position is the
// channel's zero-padded plane shifted by j's offset, so a pooling window is
// a sum of a few shifted planes, each one long vector add over the plane
// (computed at the padded width; the extra columns are dropped). The sums
// run in the window's order from zero, as Bins.Pool's, so the result is
// the same to the bit.
func (c Config) unfoldPool(l Layer) []float32 {
	k := c.PatchSize
	r := k / 2
	n := l.H * l.W
	hp, wp := l.H+2*r, l.W+2*r
	// A padded plane, plus the 2r values a shift of the last row reads
	// past its end.
	stride := hp*wp + 2*r
	padded := make([]float32, l.C*stride)
	for ch := 0; ch < l.C; ch++ {
		for y := 0; y < l.H; y++ {
			copy(padded[ch*stride+(y+r)*wp+r:], l.Data[ch*n+y*l.W:ch*n+(y+1)*l.W])
		}
	}
	out := make([]float32, n*c.PretrainDim)
	bins := NewBins(l.C*k*k, c.PretrainDim)
	span := l.H * wp
	// Windows go in groups, so that each position's results are written
	// side by side (one window at a time scattered them a row apart).
	const group = 16
	groups := (c.PretrainDim + group - 1) / group
	workers := min(runtime.GOMAXPROCS(0), groups)
	accs := make([][]float32, workers)
	parallel.For(workers, groups, 1, func(w, g int) {
		if accs[w] == nil {
			accs[w] = make([]float32, group*span)
		}
		acc := accs[w]
		var count [group]float32
		i0, i1 := g*group, min((g+1)*group, c.PretrainDim)
		clear(acc)
		for i := i0; i < i1; i++ {
			a := acc[(i-i0)*span : (i-i0+1)*span]
			for j := bins.Start[i]; j < bins.End[i]; j++ {
				ch, off := j/(k*k), j%(k*k)
				base := ch*stride + (off/k)*wp + off%k
				vec.Add(a, a, padded[base:base+span])
			}
			count[i-i0] = float32(bins.End[i] - bins.Start[i])
		}
		for y := 0; y < l.H; y++ {
			for x := 0; x < l.W; x++ {
				dst := out[(y*l.W+x)*c.PretrainDim+i0 : (y*l.W+x)*c.PretrainDim+i1]
				at := y*wp + x
				for m := range dst {
					dst[m] = acc[m*span+at] / count[m]
				}
			}
		}
	})
	return out
}

// Bins are the windows of 1-D adaptive average pooling from In to Out
// values, as PyTorch computes them: output i averages inputs
// [floor(i*In/Out), ceil((i+1)*In/Out)).
type Bins struct {
	In    int
	Start []int
	End   []int
	pairs bool // every window is [2i, 2i+2): the final pooling of two layers
}

// NewBins computes the pooling windows from in to out values.
func NewBins(in, out int) Bins {
	b := Bins{In: in, Start: make([]int, out), End: make([]int, out), pairs: in == 2*out}
	for i := 0; i < out; i++ {
		b.Start[i] = i * in / out
		b.End[i] = ((i+1)*in + out - 1) / out
	}
	return b
}

// Pool writes the window averages of src (length In) into dst.
func (b Bins) Pool(dst, src []float32) {
	if b.pairs {
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = (src[2*i] + src[2*i+1]) / 2 // 0 + a + b, as below
		}
		return
	}
	for i := range dst {
		s, e := b.Start[i], b.End[i]
		var sum float32
		for _, v := range src[s:e] {
			sum += v
		}
		dst[i] = sum / float32(e-s)
	}
}

// Upsample resizes a patch-major map (h*w rows of d values) to oh x ow by
// bilinear interpolation with PyTorch's align_corners=False convention.
func Upsample(src []float32, d, h, w, oh, ow int) []float32 {
	out := make([]float32, oh*ow*d)
	ys, xs := Linear(h, oh), Linear(w, ow)
	for oy, ty := range ys {
		for ox, tx := range xs {
			dst := out[(oy*ow+ox)*d : (oy*ow+ox+1)*d]
			r00 := src[(ty.I0*w+tx.I0)*d:]
			r01 := src[(ty.I0*w+tx.I1)*d:]
			r10 := src[(ty.I1*w+tx.I0)*d:]
			r11 := src[(ty.I1*w+tx.I1)*d:]
			w00 := (1 - ty.T) * (1 - tx.T)
			w01 := (1 - ty.T) * tx.T
			w10 := ty.T * (1 - tx.T)
			w11 := ty.T * tx.T
			// Four vector multiply-adds, in the order the sum was written.
			vec.Axpy(w00, r00, dst)
			vec.Axpy(w01, r01, dst)
			vec.Axpy(w10, r10, dst)
			vec.Axpy(w11, r11, dst)
		}
	}
	return out
}

// Tap is one output position of 1-D linear interpolation: it mixes
// inputs I0 and I1 as (1-T)*x[I0] + T*x[I1].
type Tap struct {
	I0, I1 int
	T      float32
}

// Linear computes PyTorch's bilinear source positions for resizing in
// samples to out (align_corners=False): src = (dst+0.5)*in/out - 0.5,
// clamped at 0.
func Linear(in, out int) []Tap {
	taps := make([]Tap, out)
	scale := float32(in) / float32(out)
	for i := range taps {
		src := (float32(i)+0.5)*scale - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		if i0 > in-1 {
			i0 = in - 1
		}
		i1 := min(i0+1, in-1)
		taps[i] = Tap{I0: i0, I1: i1, T: src - float32(i0)}
	}
	return taps
}
