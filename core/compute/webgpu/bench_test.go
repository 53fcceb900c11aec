//go:build cgo || js

package webgpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
)

// BenchmarkGEMM reports GFLOP/s of C = A x B on the WebGPU device and on
// the CPU backend, for the sizes of issue #4 (1024^3, 4096x1024x1024).
// On a software adapter (lavapipe) the GPU figure says nothing about GPUs.
func BenchmarkGEMM(b *testing.B) {
	g, err := New(Options{AllowCPUAdapter: true})
	if err != nil {
		b.Skipf("no WebGPU adapter: %v", err)
	}
	defer g.Close()
	b.Logf("device: %s", g.Name())
	r := rand.New(rand.NewPCG(1, 1))
	for _, sz := range [][3]int{{1024, 1024, 1024}, {4096, 1024, 1024}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, bm := rnd(r, m*k), rnd(r, k*n)
		for _, be := range []struct {
			name string
			b    compute.Backend
			sync func() error
		}{{"webgpu", g, g.Finish}, {"cpu", cpu.New(0), func() error { return nil }}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", be.name, m, k, n), func(b *testing.B) {
				ta, tb := be.b.Upload([]int{m, k}, a), be.b.Upload([]int{k, n}, bm)
				for b.Loop() {
					be.b.Release(be.b.MatMul(ta, tb))
					if err := be.sync(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
