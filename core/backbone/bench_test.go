package backbone_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/internal/shared"
)

// BenchmarkBackbone times batch-1 224x224 feature extraction per model,
// reporting ms/image and GFLOP/s (convolution multiply-adds x2).
func BenchmarkBackbone(b *testing.B) {
	for _, net := range nets {
		b.Run(net.dir, func(b *testing.B) {
			m, err := backbone.LoadFile(shared.Weights(b, net.file), backbone.Options{})
			if err != nil {
				b.Fatal(err)
			}
			e, err := m.NewExecutor(cpu.New(0))
			if err != nil {
				b.Fatal(err)
			}
			c, h, w := m.InputShape()
			x := make([]float32, c*h*w)
			r := rand.New(rand.NewPCG(1, 1))
			for i := range x {
				x[i] = r.Float32()*4 - 2
			}
			shape := []int{1, c, h, w}
			if _, err := e.Run(x, shape); err != nil { // warm up buffers
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := e.Run(x, shape); err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(sec*1e3, "ms/image")
			b.ReportMetric(m.FLOPs()/sec/1e9, "GFLOP/s")
		})
	}
}
