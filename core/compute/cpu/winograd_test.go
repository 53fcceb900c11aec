package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// TestWinogradMatchesIm2col runs 3x3 stride-1 convolutions as F(2x2, 3x3)
// and through im2col: ResNet's three, odd and even sizes, no and uneven
// padding, a batch of two, and as ConvAdd with a residual and a clamp.
// Winograd rounds differently from the direct sum, so they agree within
// rounding.
func TestWinogradMatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	relu := compute.Activation{Clamp: true, Min: 0, Max: float32(6)}
	for _, tc := range []struct {
		n, c, out, h, w        int
		padT, padL, padB, padR int
	}{
		{1, 64, 64, 56, 56, 1, 1, 1, 1}, {1, 128, 128, 28, 28, 1, 1, 1, 1}, {1, 256, 256, 14, 14, 1, 1, 1, 1},
		{2, 32, 40, 15, 13, 1, 1, 1, 1}, {1, 48, 20, 9, 11, 0, 0, 0, 0}, {1, 33, 7, 10, 17, 2, 0, 1, 2}, {1, 32, 70, 1, 1, 1, 1, 1, 1},
		{1, 128, 24, 7, 9, 1, 1, 1, 1},
	} {
		s := compute.ConvSpec{InC: tc.c, OutC: tc.out, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1,
			PadT: tc.padT, PadL: tc.padL, PadB: tc.padB, PadR: tc.padR, Group: 1}
		if !winogradable(s) {
			if vec.WinogradVector() || tc.c >= minWinogradChannelsGo {
				t.Fatalf("%+v is not winogradable", tc)
			}
			continue // too few channels for the Go transforms
		}
		oh, ow := s.OutSize(tc.h, tc.w)
		x := randSlice(r, tc.n*tc.c*tc.h*tc.w)
		wt, bias := randSlice(r, tc.out*tc.c*9), randSlice(r, tc.out)
		res := randSlice(r, tc.n*tc.out*oh*ow)
		shape := []int{tc.n, tc.c, tc.h, tc.w}
		var conv, add [2][]float32
		for i, only := range []bool{false, true} {
			b := New(2)
			b.im2colOnly = only
			w := b.PrepareConv(s, wt, bias)
			if got := w.(*convWeights).winograd; got == only {
				t.Fatalf("%+v: winograd %v with im2colOnly %v", tc, got, only)
			}
			conv[i] = b.Conv(b.Upload(shape, x), w, compute.Identity).(*Tensor).Data
			add[i] = b.ConvAdd(b.Upload(shape, x), w, b.Upload([]int{tc.n, tc.out, oh, ow}, res), relu, true).(*Tensor).Data
			b.Close()
		}
		name := fmt.Sprintf("%+v", tc)
		closeTo(t, name, conv[0], conv[1], 1e-4)
		closeTo(t, name+" ConvAdd", add[0], add[1], 1e-4)
	}
}
