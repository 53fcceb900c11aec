package embed

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBinsMatchPyTorch(t *testing.T) {
	// adaptive_avg_pool1d(5 -> 3): windows [0,2), [1,4), [3,5).
	b := NewBins(5, 3)
	want := [][2]int{{0, 2}, {1, 4}, {3, 5}}
	for i, w := range want {
		if b.Start[i] != w[0] || b.End[i] != w[1] {
			t.Errorf("bin %d = [%d,%d), want [%d,%d)", i, b.Start[i], b.End[i], w[0], w[1])
		}
	}
	// 4608 (512 channels x 9) -> 1024: windows of 4.5 alternate 5 wide
	// overlapping ones: [0,5), [4,9), [9,14), [13,18).
	b = NewBins(4608, 1024)
	for i, w := range [][2]int{{0, 5}, {4, 9}, {9, 14}, {13, 18}} {
		if b.Start[i] != w[0] || b.End[i] != w[1] {
			t.Errorf("4608->1024 bin %d = [%d,%d), want %v", i, b.Start[i], b.End[i], w)
		}
	}
	// Upsampling 2 -> 4 repeats: [0,1), [0,1), [1,2), [1,2).
	b = NewBins(2, 4)
	dst := make([]float32, 4)
	b.Pool(dst, []float32{1, 3})
	if dst[0] != 1 || dst[1] != 1 || dst[2] != 3 || dst[3] != 3 {
		t.Errorf("2->4 pooling gave %v", dst)
	}
}

func TestLinearMatchesPyTorch(t *testing.T) {
	// F.interpolate(size 4 from 2, bilinear, align_corners=False): source
	// positions -0.25 (clamped to 0), 0.25, 0.75, 1.25.
	taps := Linear(2, 4)
	want := []Tap{{0, 1, 0}, {0, 1, 0.25}, {0, 1, 0.75}, {1, 1, 0.25}}
	for i, w := range want {
		if taps[i] != w {
			t.Errorf("tap %d = %+v, want %+v", i, taps[i], w)
		}
	}
	up := Upsample([]float32{0, 4}, 1, 1, 2, 1, 4)
	for i, w := range []float32{0, 1, 3, 4} {
		if up[i] != w {
			t.Errorf("upsampled[%d] = %g, want %g", i, up[i], w)
		}
	}
}

// TestUnfoldPoolByHand checks one position against a hand computation: a
// 1-channel 3x3 map, patch size 3, pooled 9 -> 3 (windows of 3 values =
// one row of the neighbourhood each).
func TestUnfoldPoolByHand(t *testing.T) {
	l := Layer{C: 1, H: 3, W: 3, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	c := Config{PatchSize: 3, PretrainDim: 3, TargetDim: 3}
	p := c.unfoldPool(l)
	// Corner (0,0): neighbourhood rows [0 0 0], [0 1 2], [0 4 5].
	want := []float32{0, 1, 3}
	for i, w := range want {
		if math.Abs(float64(p[i]-w)) > 1e-6 {
			t.Errorf("corner pooled[%d] = %g, want %g", i, p[i], w)
		}
	}
	// Centre (1,1): rows [1 2 3], [4 5 6], [7 8 9] -> 2, 5, 8.
	for i, w := range []float32{2, 5, 8} {
		if got := p[4*3+i]; math.Abs(float64(got-w)) > 1e-6 {
			t.Errorf("centre pooled[%d] = %g, want %g", i, got, w)
		}
	}
}

// TestPatchesMatchesReferenceOrder builds the reference's computation the
// slow way (unfold both layers, upsample every unfolded channel, pool,
// concatenate, pool) and compares with Patches, which pools first.
func TestPatchesMatchesReferenceOrder(t *testing.T) {
	l2 := Layer{C: 3, H: 4, W: 4, Data: make([]float32, 48)}
	l3 := Layer{C: 5, H: 2, W: 2, Data: make([]float32, 20)}
	for i := range l2.Data {
		l2.Data[i] = float32(math.Sin(float64(i)))
	}
	for i := range l3.Data {
		l3.Data[i] = float32(math.Cos(float64(i) * 0.7))
	}
	c := Config{PatchSize: 3, PretrainDim: 7, TargetDim: 6}
	got, err := c.Patches([]Layer{l2, l3})
	if err != nil {
		t.Fatal(err)
	}
	unfold := func(l Layer) []float32 { // H*W x C*9, no pooling
		id := Config{PatchSize: 3, PretrainDim: l.C * 9}
		return id.unfoldPool(l)
	}
	u2 := unfold(l2)
	u3 := Upsample(unfold(l3), 5*9, 2, 2, 4, 4)
	b2, b3 := NewBins(27, 7), NewBins(45, 7)
	final := NewBins(14, 6)
	for p := 0; p < 16; p++ {
		cat := make([]float32, 14)
		b2.Pool(cat[:7], u2[p*27:(p+1)*27])
		b3.Pool(cat[7:], u3[p*45:(p+1)*45])
		want := make([]float32, 6)
		final.Pool(want, cat)
		for i := range want {
			if d := math.Abs(float64(got[p*6+i] - want[i])); d > 1e-5 {
				t.Fatalf("patch %d value %d: %g, reference order gives %g", p, i, got[p*6+i], want[i])
			}
		}
	}
}

// unfoldPoolNaive is the definition: gather each position's padded
// neighbourhood in Unfold's order, then pool it with Bins.Pool.
func unfoldPoolNaive(c Config, l Layer) []float32 {
	k, r, n := c.PatchSize, c.PatchSize/2, l.H*l.W
	out := make([]float32, n*c.PretrainDim)
	bins := NewBins(l.C*k*k, c.PretrainDim)
	patch := make([]float32, l.C*k*k)
	for p := 0; p < n; p++ {
		y, x := p/l.W, p%l.W
		i := 0
		for ch := 0; ch < l.C; ch++ {
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					yy, xx := y+dy, x+dx
					patch[i] = 0
					if yy >= 0 && yy < l.H && xx >= 0 && xx < l.W {
						patch[i] = l.Data[ch*n+yy*l.W+xx]
					}
					i++
				}
			}
		}
		bins.Pool(out[p*c.PretrainDim:(p+1)*c.PretrainDim], patch)
	}
	return out
}

// TestUnfoldPoolMatchesDefinition: the plane-wise unfold-and-pool gives
// the definition's values to the bit, over patch sizes, odd shapes and
// windows that straddle channels.
func TestUnfoldPoolMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct{ k, c, h, w, dim int }{
		{3, 7, 5, 6, 10}, {3, 64, 14, 14, 100}, {1, 5, 3, 4, 3}, {5, 3, 6, 4, 7}, {3, 512, 28, 28, 1024},
	} {
		l := Layer{C: tc.c, H: tc.h, W: tc.w, Data: make([]float32, tc.c*tc.h*tc.w)}
		for i := range l.Data {
			l.Data[i] = r.Float32()*2 - 1
		}
		c := Config{PatchSize: tc.k, PretrainDim: tc.dim, TargetDim: tc.dim}
		got, want := c.unfoldPool(l), unfoldPoolNaive(c, l)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: [%d] = %g, the definition %g", tc, i, got[i], want[i])
			}
		}
	}
}

func BenchmarkUnfoldPool(b *testing.B) {
	l := Layer{C: 512, H: 28, W: 28, Data: make([]float32, 512*28*28)}
	c := Default()
	b.Run("planes", func(b *testing.B) {
		for b.Loop() {
			c.unfoldPool(l)
		}
	})
	b.Run("definition", func(b *testing.B) {
		for b.Loop() {
			unfoldPoolNaive(c, l)
		}
	})
}
