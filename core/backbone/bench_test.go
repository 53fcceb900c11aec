package backbone_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/backends"
	"github.com/tessera/tessera/internal/golden"
	"github.com/tessera/tessera/internal/shared"
)

// BenchmarkBackbone times batch-1 224x224 feature extraction per model
// and backend, reporting ms/image and GFLOP/s (multiply-adds x2). WebGPU
// is timed only on a real GPU ("auto" picks it): on a software adapter
// its figures would say nothing.
func BenchmarkBackbone(b *testing.B) {
	for _, kind := range []string{"cpu", "auto"} {
		dev, why, err := backends.Open(kind, nil)
		if err != nil || (kind == "auto" && why != "") {
			b.Logf("%s: %v %s", kind, err, why)
			continue
		}
		be := dev.Backend()
		kind = strings.Fields(be.Name())[0]
		for _, net := range golden.Nets {
			b.Run(kind+"/"+net.Dir, func(b *testing.B) { benchBackbone(b, be, net.File) })
		}
	}
}

func benchBackbone(b *testing.B, be compute.Backend, file string) {
	m, err := backbone.LoadFile(shared.Weights(b, file), backbone.Options{})
	if err != nil {
		b.Fatal(err)
	}
	e, err := m.NewExecutor(be)
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
}
