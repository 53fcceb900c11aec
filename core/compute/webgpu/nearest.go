//go:build cgo || js

package webgpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/tessera/tessera/core/compute"
)

// bankChunk bounds the bank rows per buffer and per dot-product block, so
// buffers stay under the device's binding size limit.
const bankChunk = 4096

type bank struct {
	n, d   int
	chunks []*wgpu.Buffer // rows x d each
	rows   []int
	norms  *wgpu.Buffer
}

func (k *bank) Len() int { return k.n }
func (k *bank) Dim() int { return k.d }

func (b *Backend) PrepareIndex(vectors []float32, n, d int) compute.Index {
	bk := &bank{n: n, d: d}
	norms := make([]float32, n)
	for i := range norms {
		var s float64
		for _, v := range vectors[i*d : (i+1)*d] {
			s += float64(v) * float64(v)
		}
		norms[i] = float32(s)
	}
	for r0 := 0; r0 < n; r0 += bankChunk {
		r1 := min(r0+bankChunk, n)
		bk.chunks = append(bk.chunks, b.upload(vectors[r0*d:r1*d]))
		bk.rows = append(bk.rows, r1-r0)
	}
	bk.norms = b.upload(norms)
	return bk
}

// Nearest multiplies each bank chunk by the transposed queries on the GPU
// and folds each query's k smallest |b|^2 - 2 q.b into a running list
// there; only those nq x k values are read back.
func (b *Backend) Nearest(bb compute.Index, queries []float32, nq, k int) ([]float32, error) {
	bk, ok := bb.(*bank)
	if !ok {
		return nil, fmt.Errorf("webgpu: bank was prepared by another backend")
	}
	if k < 1 || k > bk.n || k > 16 {
		return nil, fmt.Errorf("webgpu: k = %d nearest neighbours (1 to min(16, %d))", k, bk.n)
	}
	d := bk.d
	if len(queries) != nq*d {
		return nil, fmt.Errorf("webgpu: %d query values for %d x %d", len(queries), nq, d)
	}
	// Queries in chunks, so that the transposed queries and the chunk's
	// dot products stay within a binding (a batch of 32 images is 25,088
	// queries: 411 MB of dot products against one bank chunk at once).
	per := int(min(b.limits.MaxStorageBufferBindingSize, b.maxScratch) / 4)
	qc := max(1, min(nq, per/bankChunk, per/d))
	out := make([]float32, nq*k)
	for q0 := 0; q0 < nq; q0 += qc {
		q1 := min(q0+qc, nq)
		if err := b.nearestChunk(bk, queries[q0*d:q1*d], q1-q0, k, out[q0*k:q1*k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// defaultMaxScratch bounds the bytes of one query chunk's buffers.
const defaultMaxScratch = 256 << 20

// nearestChunk is Nearest for nq queries, into out (nq x k).
func (b *Backend) nearestChunk(bk *bank, queries []float32, nq, k int, out []float32) error {
	d := bk.d
	qt, qnorm := compute.QueryColumns(queries, nq, d)
	qb := b.upload(qt)
	defer b.free(qb)
	dots := b.buffer(bankChunk * nq)
	defer b.free(dots)
	best := b.buffer(nq * k)
	defer b.free(best)
	off := 0
	for c, chunk := range bk.chunks {
		rows := bk.rows[c]
		first := uint32(0)
		if c == 0 {
			first = 1
		}
		b.matmul(matmulArgs{a: chunk, b: qb, ldb: nq, c: dots, m: rows, n: nq, k: d})
		b.run("nearest", []uint32{uint32(rows), uint32(nq), uint32(k), uint32(off), first}, nq, nil, best, dots, bk.norms)
		off += rows
	}
	got, err := b.read(best, nq*k)
	if err != nil {
		return fmt.Errorf("webgpu: nearest-neighbour search: %w", err)
	}
	compute.MergeNearest(out, 1, func(int) []float32 { return got }, qnorm, k)
	return nil
}
