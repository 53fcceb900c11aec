// Package cpu is the portable compute backend: host memory, a packed GEMM
// (assembly on amd64, Go elsewhere) for convolutions and matrix products,
// and every operation split over all cores with goroutines.
package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/internal/hugepage"
	"github.com/tessera/tessera/core/internal/parallel"
)

// Backend is the CPU implementation of compute.Backend.
type Backend struct {
	workers int
	team    *parallel.Team
	free    map[int][][]float32 // released buffers by length, reused by the next pass
	mu      sync.Mutex
	// im2colOnly makes every convolution go through im2col, so that tests
	// and benchmarks can set convShifted against it.
	im2colOnly bool
	// noWinograd runs 3x3 convolutions directly (shifted) instead of as
	// Winograd's F(2x2, 3x3), for tests and benchmarks.
	noWinograd bool
}

// New returns a CPU backend using workers goroutines (all cores when <= 0).
func New(workers int) *Backend {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Backend{workers: workers, team: parallel.NewTeam(workers), free: map[int][][]float32{}}
}

// Close stops the backend's helper goroutines; the backend must not be
// used afterwards.
func (b *Backend) Close() { b.team.Close() }

// Tensor is a CPU tensor: a shape and its row-major data.
type Tensor struct {
	shape []int
	Data  []float32
}

func (t *Tensor) Shape() []int { return t.shape }

func (b *Backend) Name() string {
	unit := "threads"
	if b.workers == 1 {
		unit = "thread"
	}
	return fmt.Sprintf("cpu (%d %s, %s)", b.workers, unit, sgemm.Kernel())
}

func (b *Backend) Err() error { return nil }

func (b *Backend) alloc(shape []int) *Tensor {
	n := compute.Size(shape)
	b.mu.Lock()
	var data []float32
	if l := b.free[n]; len(l) > 0 {
		data = l[len(l)-1]
		b.free[n] = l[:len(l)-1]
	}
	b.mu.Unlock()
	if data == nil {
		data = hugepage.Floats(n)
	}
	return &Tensor{shape: append([]int(nil), shape...), Data: data}
}

func (b *Backend) Upload(shape []int, data []float32) compute.Tensor {
	t := b.alloc(shape)
	copy(t.Data, data)
	return t
}

func (b *Backend) Download(t compute.Tensor) ([]float32, error) {
	return append([]float32(nil), t.(*Tensor).Data...), nil
}

func (b *Backend) Release(t compute.Tensor) {
	ct := t.(*Tensor)
	if ct.Data == nil {
		return
	}
	b.mu.Lock()
	b.free[len(ct.Data)] = append(b.free[len(ct.Data)], ct.Data)
	b.mu.Unlock()
	ct.Data = nil
}

func (b *Backend) Reshape(t compute.Tensor, shape []int) compute.Tensor {
	// A copy rather than a view, so that each tensor has one owner and
	// Release stays simple; reshapes are rare in CNN backbones.
	return b.Upload(shape, t.(*Tensor).Data)
}

// scratch returns a zeroed buffer of n floats for temporary use.
func (b *Backend) scratch(n int) []float32 {
	t := b.alloc([]int{n})
	clear(t.Data)
	return t.Data
}

// PartBatch is one image: see compute.PartBatcher.
func (b *Backend) PartBatch() int { return 1 }

// putScratch hands a scratch buffer back.
func (b *Backend) putScratch(s []float32) {
	b.Release(&Tensor{Data: s})
}

// parallel runs f over [0, n) split into contiguous ranges, a few per
// worker so that uneven ranges even out.
func (b *Backend) parallel(n int, f func(lo, hi int)) {
	chunks := min(n, 4*b.workers)
	if chunks <= 1 {
		f(0, n)
		return
	}
	b.team.For(chunks, func(i int) {
		f(i*n/chunks, (i+1)*n/chunks)
	})
}
