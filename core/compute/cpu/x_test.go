package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera/tessera/core/compute"
)

func BenchmarkXDW(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	relu6 := compute.Activation{Clamp: true, Min: 0, Max: 6}
	for _, tc := range []struct{ mid, hw, st int }{{384, 14, 1}, {192, 28, 1}, {144, 56, 1}, {96, 112, 2}} {
		ds := compute.ConvSpec{InC: tc.mid, OutC: tc.mid, KH: 3, KW: 3, StrideH: tc.st, StrideW: tc.st, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: tc.mid}
		be := New(1)
		dw := be.PrepareConv(ds, randSlice(r, tc.mid*9), randSlice(r, tc.mid))
		mid := be.Upload([]int{1, tc.mid, tc.hw, tc.hw}, randSlice(r, tc.mid*tc.hw*tc.hw))
		b.Run(fmt.Sprintf("%d-%d/%d", tc.mid, tc.hw, tc.st), func(b *testing.B) {
			for b.Loop() {
				be.Release(be.Conv(mid, dw, relu6))
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(tc.mid), "ns/channel")
		})
	}
}
