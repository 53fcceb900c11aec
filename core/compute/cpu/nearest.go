package cpu

import (
	"fmt"
	"math"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu/sgemm"
)

// bankRows is how many bank vectors one search task multiplies at once:
// the packed chunk and its block of dot products stay in cache.
const bankRows = 256

// queryBlock bounds the queries per pass, and so the dot-product buffers.
const queryBlock = 1024

type bank struct {
	n, d   int
	chunks []*sgemm.Packed
	norms  []float32 // |b|^2 per vector
}

func (b *bank) Len() int { return b.n }
func (b *bank) Dim() int { return b.d }

func (b *Backend) PrepareIndex(vectors []float32, n, d int) compute.Index {
	bk := &bank{n: n, d: d, norms: make([]float32, n)}
	for r0 := 0; r0 < n; r0 += bankRows {
		r1 := min(r0+bankRows, n)
		bk.chunks = append(bk.chunks, sgemm.Pack(vectors[r0*d:r1*d], r1-r0, d))
	}
	b.parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s float64
			for _, v := range vectors[i*d : (i+1)*d] {
				s += float64(v) * float64(v)
			}
			bk.norms[i] = float32(s)
		}
	})
	return bk
}

// Nearest computes |q|^2 - 2 q.b + |b|^2 with the dot products as a
// matrix product, one bank chunk per task, keeping only each query's k
// smallest values per chunk; the chunks' candidates are merged at the end.
func (b *Backend) Nearest(bb compute.Index, queries []float32, nq, k int) ([]float32, error) {
	bk, ok := bb.(*bank)
	if !ok {
		return nil, fmt.Errorf("cpu: bank was prepared by another backend")
	}
	if k < 1 || k > bk.n {
		return nil, fmt.Errorf("cpu: k = %d nearest neighbours, but the bank has %d vectors", k, bk.n)
	}
	if len(queries) != nq*bk.d {
		return nil, fmt.Errorf("cpu: %d query values for %d x %d", len(queries), nq, bk.d)
	}
	out := make([]float32, nq*k)
	for q0 := 0; q0 < nq; q0 += queryBlock {
		q1 := min(q0+queryBlock, nq)
		b.nearestBlock(bk, queries[q0*bk.d:q1*bk.d], q1-q0, k, out[q0*k:q1*k])
	}
	return out, nil
}

func (b *Backend) nearestBlock(bk *bank, queries []float32, nq, k int, out []float32) {
	d := bk.d
	qt, qnorm := compute.QueryColumns(queries, nq, d)
	// cand[c] holds chunk c's k best (|b|^2 - 2 q.b) per query, ascending.
	cand := make([][]float32, len(bk.chunks))
	b.team.For(len(bk.chunks), func(c int) {
		p := bk.chunks[c]
		dots := b.scratch(p.M * nq)
		defer b.putScratch(dots)
		p.Mul(dots, nq, qt, nq, nq, sgemm.Epilogue{}, sgemm.Serial)
		best := make([]float32, nq*k)
		for i := range best {
			best[i] = float32(math.Inf(1))
		}
		norms := bk.norms[c*bankRows:]
		for r := 0; r < p.M; r++ {
			row := dots[r*nq : (r+1)*nq]
			nr := norms[r]
			if k == 1 {
				for q, v := range row {
					if s := nr - 2*v; s < best[q] {
						best[q] = s
					}
				}
				continue
			}
			for q, v := range row {
				compute.InsertSmallest(best[q*k:(q+1)*k], nr-2*v)
			}
		}
		cand[c] = best
	})
	compute.MergeNearest(out, len(cand), func(c int) []float32 { return cand[c] }, qnorm, k)
}
