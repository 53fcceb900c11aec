package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tessera/tessera/core/compute"
)

// naiveConv is the textbook definition of an ONNX Conv.
func naiveConv(x []float32, n, c, h, w int, wt, bias []float32, s compute.ConvSpec) []float32 {
	oh, ow := s.OutSize(h, w)
	out := make([]float32, n*s.OutC*oh*ow)
	cg, og := c/s.Group, s.OutC/s.Group
	for b := 0; b < n; b++ {
		for o := 0; o < s.OutC; o++ {
			g := o / og
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					sum := float64(bias[o])
					for ci := 0; ci < cg; ci++ {
						for ky := 0; ky < s.KH; ky++ {
							for kx := 0; kx < s.KW; kx++ {
								iy := oy*s.StrideH + ky*s.DilH - s.PadT
								ix := ox*s.StrideW + kx*s.DilW - s.PadL
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								sum += float64(x[((b*c+g*cg+ci)*h+iy)*w+ix]) * float64(wt[((o*cg+ci)*s.KH+ky)*s.KW+kx])
							}
						}
					}
					out[((b*s.OutC+o)*oh+oy)*ow+ox] = float32(sum)
				}
			}
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func closeTo(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		// NaN fails any comparison: a NaN must meet a NaN.
		gn, wn := got[i] != got[i], want[i] != want[i]
		if gn != wn || !gn && math.Abs(float64(got[i]-want[i])) > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %g, want %g", name, i, got[i], want[i])
		}
	}
}

func TestConvMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	specs := []struct {
		c, h, w int
		s       compute.ConvSpec
	}{
		{3, 17, 19, compute.ConvSpec{OutC: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1}},
		{16, 9, 9, compute.ConvSpec{OutC: 20, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1}},
		{8, 15, 15, compute.ConvSpec{OutC: 7, KH: 1, KW: 1, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, Group: 1}},
		{3, 23, 20, compute.ConvSpec{OutC: 5, KH: 7, KW: 7, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 3, PadL: 3, PadB: 3, PadR: 3, Group: 1}},
		{8, 12, 13, compute.ConvSpec{OutC: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 2, DilW: 2, PadT: 2, PadL: 0, PadB: 1, PadR: 2, Group: 2}},
		// Read in place (sgemm.Shifted): 16 or more channels, stride 1 and
		// 2, odd and even sizes, asymmetric pads, non-square filters, and
		// more channels than one depth pass takes.
		{16, 14, 14, compute.ConvSpec{OutC: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1}},
		{24, 15, 16, compute.ConvSpec{OutC: 13, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1}},
		{17, 13, 11, compute.ConvSpec{OutC: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 0, PadL: 1, PadB: 1, PadR: 0, Group: 1}},
		{16, 10, 10, compute.ConvSpec{OutC: 8, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, Group: 1}},
		{16, 9, 10, compute.ConvSpec{OutC: 9, KH: 5, KW: 5, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2, Group: 1}},
		{16, 8, 9, compute.ConvSpec{OutC: 6, KH: 3, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadB: 1, Group: 1}},
		{260, 6, 5, compute.ConvSpec{OutC: 8, KH: 1, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadL: 1, PadR: 1, Group: 1}},
		// Too few channels to read in place: panels gathered from the
		// padded planes (sgemm.Panels).
		{5, 30, 37, compute.ConvSpec{OutC: 13, KH: 5, KW: 5, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 2, PadL: 1, PadB: 0, PadR: 2, Group: 1}},
		{3, 20, 32, compute.ConvSpec{OutC: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1}},
		// Depthwise: the plane-wide fast path (stride 1 and 2, odd and even
		// sizes, asymmetric pads) and the direct path (dilation, stride 3).
		{6, 14, 14, compute.ConvSpec{OutC: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 6}},
		{6, 15, 16, compute.ConvSpec{OutC: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 6}},
		{4, 16, 13, compute.ConvSpec{OutC: 4, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 0, PadL: 1, PadB: 1, PadR: 0, Group: 4}},
		{4, 11, 11, compute.ConvSpec{OutC: 4, KH: 5, KW: 5, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2, Group: 4}},
		{4, 11, 11, compute.ConvSpec{OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 2, DilW: 2, PadT: 2, PadL: 2, PadB: 2, PadR: 2, Group: 4}},
		{4, 13, 13, compute.ConvSpec{OutC: 4, KH: 3, KW: 3, StrideH: 3, StrideW: 3, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 4}},
	}
	for _, workers := range []int{1, 2} {
		b := New(workers)
		for i, tc := range specs {
			s := tc.s
			s.InC = tc.c
			n := 2
			x := randSlice(r, n*tc.c*tc.h*tc.w)
			wt := randSlice(r, s.OutC*tc.c/s.Group*s.KH*s.KW)
			bias := randSlice(r, s.OutC)
			want := naiveConv(x, n, tc.c, tc.h, tc.w, wt, bias, s)
			for _, act := range []compute.Activation{compute.Identity, {Clamp: true, Min: 0, Max: 0.5}} {
				got := b.Conv(b.Upload([]int{n, tc.c, tc.h, tc.w}, x), b.PrepareConv(s, wt, bias), act).(*Tensor)
				oh, ow := s.OutSize(tc.h, tc.w)
				if fmt.Sprint(got.shape) != fmt.Sprint([]int{n, s.OutC, oh, ow}) {
					t.Fatalf("case %d: shape %v", i, got.shape)
				}
				exp := append([]float32(nil), want...)
				if act.Clamp {
					for j := range exp {
						exp[j] = min(max(exp[j], act.Min), act.Max)
					}
				}
				closeTo(t, fmt.Sprintf("case %d workers %d clamp %v", i, workers, act.Clamp), got.Data, exp, 1e-5)
				// With a residual, added before the activation, into a
				// copy of it or in place.
				res := randSlice(r, len(want))
				for j := range exp {
					exp[j] = want[j] + res[j]
					if act.Clamp {
						exp[j] = min(max(exp[j], act.Min), act.Max)
					}
				}
				for _, reuse := range []bool{false, true} {
					rt := b.Upload(got.shape, res)
					sum := b.ConvAdd(b.Upload([]int{n, tc.c, tc.h, tc.w}, x), b.PrepareConv(s, wt, bias), rt, act, reuse).(*Tensor)
					name := fmt.Sprintf("case %d workers %d clamp %v residual reuse %v", i, workers, act.Clamp, reuse)
					closeTo(t, name, sum.Data, exp, 1e-5)
					if kept := rt.(*Tensor).Data; !reuse && !slices.Equal(kept, res) {
						t.Fatalf("%s: the residual was changed", name)
					}
				}
			}
		}
	}
}

func TestPool(t *testing.T) {
	b := New(2)
	// 1 x 1 x 4 x 4 with values 0..15.
	x := make([]float32, 16)
	for i := range x {
		x[i] = float32(i)
	}
	in := b.Upload([]int{1, 1, 4, 4}, x)
	mx := b.Pool(in, compute.PoolSpec{Kind: compute.MaxPool, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}).(*Tensor)
	closeTo(t, "maxpool", mx.Data, []float32{5, 7, 13, 15}, 0)
	// Average excluding padding: top-left window covers 0,1,4,5.
	av := b.Pool(in, compute.PoolSpec{Kind: compute.AvgPool, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}).(*Tensor)
	closeTo(t, "avgpool", av.Data, []float32{2.5, 4, 8.5, 10}, 1e-6)
	// Including padding, the same window divides by 9.
	avp := b.Pool(in, compute.PoolSpec{Kind: compute.AvgPool, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, CountIncludePad: true}).(*Tensor)
	closeTo(t, "avgpool count_include_pad", avp.Data[:1], []float32{10.0 / 9}, 1e-6)
	g := b.GlobalAvgPool(in).(*Tensor)
	closeTo(t, "global", g.Data, []float32{7.5}, 1e-6)
	// Ceil mode: 4 wide, kernel 2, stride 3 -> windows at 0 and 3.
	cm := compute.PoolSpec{Kind: compute.MaxPool, KH: 2, KW: 2, StrideH: 3, StrideW: 3, CeilMode: true}
	if oh, ow := cm.OutSize(4, 4); oh != 2 || ow != 2 {
		t.Errorf("ceil mode size %dx%d, want 2x2", oh, ow)
	}
}

func TestBinaryBroadcastConcatMatMul(t *testing.T) {
	b := New(2)
	x := b.Upload([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	row := b.Upload([]int{3}, []float32{10, 20, 30})
	col := b.Upload([]int{2, 1}, []float32{100, 200})
	closeTo(t, "add row", b.Binary(compute.Add, x, row, []int{2, 3}).(*Tensor).Data, []float32{11, 22, 33, 14, 25, 36}, 0)
	closeTo(t, "mul col", b.Binary(compute.Mul, x, col, []int{2, 3}).(*Tensor).Data, []float32{100, 200, 300, 800, 1000, 1200}, 0)
	closeTo(t, "add same", b.Binary(compute.Add, x, x, []int{2, 3}).(*Tensor).Data, []float32{2, 4, 6, 8, 10, 12}, 0)
	cat := b.Concat(1, []compute.Tensor{x, col}).(*Tensor)
	closeTo(t, "concat", cat.Data, []float32{1, 2, 3, 100, 4, 5, 6, 200}, 0)
	tr := b.Transpose2D(x).(*Tensor)
	closeTo(t, "transpose", tr.Data, []float32{1, 4, 2, 5, 3, 6}, 0)
	mm := b.MatMul(x, tr).(*Tensor)
	closeTo(t, "matmul", mm.Data, []float32{14, 32, 32, 77}, 1e-6)
	sg := b.Sigmoid(b.Upload([]int{2}, []float32{0, 100})).(*Tensor)
	closeTo(t, "sigmoid", sg.Data, []float32{0.5, 1}, 1e-6)
	af := b.Affine(b.Upload([]int{1, 2, 1, 2}, []float32{1, -1, 2, -2}), []float32{2, 3}, []float32{1, 0}, compute.ReLU).(*Tensor)
	closeTo(t, "affine relu", af.Data, []float32{3, 0, 6, 0}, 0)
}

// TestMaxPoolAgainstNaive sets the separable max pool against the
// definition on random planes: strides, kernels, padding and ceil mode.
func TestMaxPoolAgainstNaive(t *testing.T) {
	b := New(2)
	r := rand.New(rand.NewPCG(9, 9))
	for _, s := range []compute.PoolSpec{
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{KH: 3, KW: 2, StrideH: 1, StrideW: 2, PadT: 2, PadL: 0, PadB: 1, PadR: 1},
		{KH: 2, KW: 2, StrideH: 3, StrideW: 3, CeilMode: true},
		{KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{KH: 2, KW: 4, StrideH: 2, StrideW: 2, PadL: 3, PadR: 2, CeilMode: true},
	} {
		s.Kind = compute.MaxPool
		const n, c, h, w = 2, 3, 11, 9
		x := make([]float32, n*c*h*w)
		for i := range x {
			x[i] = r.Float32()*2 - 1
		}
		x[40] = float32(math.NaN()) // wins its windows
		got := b.Pool(b.Upload([]int{n, c, h, w}, x), s).(*Tensor)
		oh, ow := s.OutSize(h, w)
		want := make([]float32, 0, n*c*oh*ow)
		for p := 0; p < n*c; p++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					m := float32(math.Inf(-1))
					for ky := 0; ky < s.KH; ky++ {
						for kx := 0; kx < s.KW; kx++ {
							iy, ix := oy*s.StrideH-s.PadT+ky, ox*s.StrideW-s.PadL+kx
							if iy >= 0 && iy < h && ix >= 0 && ix < w {
								m = max(m, x[p*h*w+iy*w+ix])
							}
						}
					}
					want = append(want, m)
				}
			}
		}
		closeTo(t, fmt.Sprintf("maxpool %+v", s), got.Data, want, 0)
	}
}

// TestInPlaceMatchesIm2col runs ResNet's 3x3 convolutions and both stems
// in place (shifted or gathered) and through im2col: the products sum in
// different orders, so they agree to rounding, not bit for bit.
func TestInPlaceMatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range append(resNetConvs, stems...) {
		s := tc.spec()
		x := randSlice(r, s.InC*tc.hw*tc.hw)
		wt, bias := randSlice(r, s.OutC*s.InC*s.KH*s.KW), randSlice(r, s.OutC)
		var out [2][]float32
		for i, only := range []bool{false, true} {
			b := New(2)
			b.im2colOnly = only
			out[i] = b.Conv(b.Upload([]int{1, s.InC, tc.hw, tc.hw}, x), b.PrepareConv(s, wt, bias), compute.Identity).(*Tensor).Data
		}
		closeTo(t, tc.name(), out[0], out[1], 1e-4)
	}
}

// benchConv is a convolution of the shared models at 224x224: c
// channels into out, an hw x hw input, a k x k filter.
type benchConv struct{ c, out, hw, k, stride int }

// resNetConvs are ResNet-50's 3x3 convolutions up to layer3; stems are
// ResNet-50's and MobileNetV2's first convolutions.
var (
	resNetConvs = []benchConv{{64, 64, 56, 3, 1}, {128, 128, 28, 3, 1}, {256, 256, 14, 3, 1}, {128, 128, 56, 3, 2}, {256, 256, 28, 3, 2}}
	stems       = []benchConv{{3, 64, 224, 7, 2}, {3, 32, 224, 3, 2}}
)

func (tc benchConv) spec() compute.ConvSpec {
	p := tc.k / 2
	return compute.ConvSpec{InC: tc.c, OutC: tc.out, KH: tc.k, KW: tc.k, StrideH: tc.stride, StrideW: tc.stride, DilH: 1, DilW: 1, PadT: p, PadL: p, PadB: p, PadR: p, Group: 1}
}

func (tc benchConv) name() string {
	return fmt.Sprintf("%dx%dx%d-%dx%dx%d/%d", tc.c, tc.hw, tc.hw, tc.out, tc.k, tc.k, tc.stride)
}

// BenchmarkConv sets the default path (Winograd for the stride-1 3x3
// layers where it runs, in place otherwise), the in-place one (shifted or
// gathered) and im2col against each other on ResNet's 3x3 layers and both
// stems, one image, all cores. GFLOP/s counts the direct sum's products,
// so a Winograd figure says how fast the layer is, not its arithmetic.
func BenchmarkConv(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range append(resNetConvs, stems...) {
		s := tc.spec()
		x := randSlice(r, s.InC*tc.hw*tc.hw)
		wt, bias := randSlice(r, s.OutC*s.InC*s.KH*s.KW), randSlice(r, s.OutC)
		oh, ow := s.OutSize(tc.hw, tc.hw)
		flop := 2 * float64(s.OutC*s.InC*s.KH*s.KW*oh*ow)
		for _, path := range []string{"default", "in-place", "im2col"} {
			if path == "default" && !winogradable(s) {
				continue // the same as in-place
			}
			b.Run(tc.name()+"/"+path, func(b *testing.B) {
				be := New(0)
				defer be.Close()
				be.noWinograd = path != "default"
				be.im2colOnly = path == "im2col"
				in, w := be.Upload([]int{1, s.InC, tc.hw, tc.hw}, x), be.PrepareConv(s, wt, bias)
				for b.Loop() {
					be.Release(be.Conv(in, w, compute.Identity))
				}
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestConvExpandedMatchesTwoConvs runs a 1x1 expansion and a depthwise
// convolution together and one after the other: the same sums in the same
// order, so bit for bit the same, over chunk edges (channels not a
// multiple of 6), both strides, a batch of two and a fallback pair.
func TestConvExpandedMatchesTwoConvs(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	relu6 := compute.Activation{Clamp: true, Min: 0, Max: 6}
	for _, tc := range []struct {
		c, mid, h, w, stride int
		dil                  int
	}{{16, 96, 30, 28, 2, 1}, {24, 21, 14, 15, 1, 1}, {8, 300, 7, 7, 1, 1}, {8, 12, 9, 9, 1, 2}} {
		es := compute.ConvSpec{InC: tc.c, OutC: tc.mid, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1}
		ds := compute.ConvSpec{InC: tc.mid, OutC: tc.mid, KH: 3, KW: 3, StrideH: tc.stride, StrideW: tc.stride, DilH: tc.dil, DilW: tc.dil, PadT: tc.dil, PadL: tc.dil, PadB: tc.dil, PadR: tc.dil, Group: tc.mid}
		x := randSlice(r, 2*tc.c*tc.h*tc.w)
		b := New(2)
		ew := b.PrepareConv(es, randSlice(r, tc.mid*tc.c), randSlice(r, tc.mid))
		dw := b.PrepareConv(ds, randSlice(r, tc.mid*9), randSlice(r, tc.mid))
		in := b.Upload([]int{2, tc.c, tc.h, tc.w}, x)
		got := b.ConvExpanded(in, ew, relu6, dw, relu6).(*Tensor)
		want := b.Conv(b.Conv(in, ew, relu6), dw, relu6).(*Tensor)
		name := fmt.Sprintf("%+v", tc)
		if !slices.Equal(got.shape, want.shape) {
			t.Fatalf("%s: shape %v, want %v", name, got.shape, want.shape)
		}
		for i := range want.Data {
			if got.Data[i] != want.Data[i] {
				t.Fatalf("%s: [%d] = %g, want %g", name, i, got.Data[i], want.Data[i])
			}
		}
	}
}

// BenchmarkDepthwise times MobileNetV2's 3x3 depthwise convolutions, per
// channel, on one core.
func BenchmarkDepthwise(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	relu6 := compute.Activation{Clamp: true, Min: 0, Max: 6}
	for _, tc := range []struct{ c, hw, stride int }{{384, 14, 1}, {192, 28, 1}, {144, 56, 1}, {96, 112, 2}} {
		s := compute.ConvSpec{InC: tc.c, OutC: tc.c, KH: 3, KW: 3, StrideH: tc.stride, StrideW: tc.stride, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: tc.c}
		be := New(1)
		w := be.PrepareConv(s, randSlice(r, tc.c*9), randSlice(r, tc.c))
		in := be.Upload([]int{1, tc.c, tc.hw, tc.hw}, randSlice(r, tc.c*tc.hw*tc.hw))
		b.Run(fmt.Sprintf("%dx%dx%d/%d", tc.c, tc.hw, tc.hw, tc.stride), func(b *testing.B) {
			for b.Loop() {
				be.Release(be.Conv(in, w, relu6))
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(tc.c), "ns/channel")
		})
		be.Close()
	}
}
