// Package search finds each patch's nearest memory-bank vectors exactly,
// doing a small fraction of brute force's work.
//
// Every distance is bounded from below by a cheap view of the bank: with
// P the projection onto m principal directions of the bank (orthonormal
// rows) and R the rest, for vectors centred on the bank's mean
//
//	|x-y|^2 = |P(x-y)|^2 + |R(x-y)|^2 >= |Px-Py|^2 + (|Rx|-|Ry|)^2.
//
// The bounds of a block of queries against the whole bank are one small
// matrix product (m values per vector instead of d). Each query then
// computes exact distances only to the vectors whose bound is below the
// k-th best distance found so far, in bound order, and stops when the
// next bound passes it: the same neighbours as brute force, up to float
// rounding. The first candidates, the k with the smallest bounds, make the
// k-th best small from the start.
package search

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// Options configures an Index.
type Options struct {
	// Dims is m, the number of principal directions bounds are made from
	// (32 by default: more make tighter bounds but cost more per vector).
	Dims int
	// Workers is how many goroutines search at once (0: one).
	Workers int
}

// DefaultDims is the projection size that measured fastest on real banks.
const DefaultDims = 32

// queryBlock is how many queries share one bound product: enough to make
// it a real matrix product, few enough that their bound rows (queryBlock
// x n) stay small.
const queryBlock = 16

// Index is a bank laid out for exact pruned search.
type Index struct {
	n, d, m int
	vecs    []float32 // the bank, n x d (not copied)
	mean    []float32 // the bank's mean, d
	proj    []float32 // P, m x d, orthonormal rows
	pbT     []float32 // P(b-mean) for every b, transposed: m x n
	pnorm   []float32 // |P(b-mean)|^2
	resid   []float32 // |R(b-mean)|
	scale   float32   // max |b-mean|^2, for the rounding margin
	workers int
}

// Stats counts the work of a search.
type Stats struct {
	Queries int64
	// Exact is the number of exact distances computed; brute force
	// computes Queries x bank size.
	Exact int64
}

// New builds an index over n bank vectors of d values (row-major). The
// slice is kept, not copied: it must not change while the index is used.
func New(vectors []float32, n, d int, opt Options) (*Index, error) {
	if n < 1 || d < 1 || len(vectors) != n*d {
		return nil, fmt.Errorf("search: %d values for a bank of %d x %d", len(vectors), n, d)
	}
	m := opt.Dims
	if m == 0 {
		m = DefaultDims
	}
	if m < 1 {
		return nil, fmt.Errorf("search: %d projection dimensions", m)
	}
	m = min(m, d)
	par := sgemm.Goroutines(max(opt.Workers, 1))
	ix := &Index{n: n, d: d, m: m, vecs: vectors, workers: max(opt.Workers, 1)}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range vectors[i*d : (i+1)*d] {
			mean[j] += float64(v)
		}
	}
	ix.mean = make([]float32, d)
	for j := range mean {
		ix.mean[j] = float32(mean[j] / float64(n))
	}
	proj, err := principal(vectors, n, d, ix.mean, m, par)
	if err != nil {
		return nil, err
	}
	ix.proj = proj
	pb, pnorm, resid, scale := ix.project(vectors, n, par)
	ix.pnorm, ix.resid, ix.scale = pnorm, resid, scale
	ix.pbT = make([]float32, m*n)
	for i := 0; i < n; i++ {
		for k := 0; k < m; k++ {
			ix.pbT[k*n+i] = pb[i*m+k]
		}
	}
	return ix, nil
}

// Len is the number of bank vectors.
func (ix *Index) Len() int { return ix.n }

// project returns P(x-mean) (rows x m), |P(x-mean)|^2, |R(x-mean)| and the
// largest |x-mean|^2 of rows vectors.
func (ix *Index) project(x []float32, rows int, par sgemm.Parallel) (pq, pnorm, resid []float32, scale float32) {
	d, m := ix.d, ix.m
	centred := make([]float32, rows*d)
	full := make([]float64, rows)
	for i := 0; i < rows; i++ {
		src, dst := x[i*d:(i+1)*d], centred[i*d:(i+1)*d]
		var s float64
		for j := range dst {
			v := src[j] - ix.mean[j]
			dst[j] = v
			s += float64(v) * float64(v)
		}
		full[i] = s
	}
	// pq = centred x P^T; P^T is d x m.
	pt := make([]float32, d*m)
	for k := 0; k < m; k++ {
		for j := 0; j < d; j++ {
			pt[j*m+k] = ix.proj[k*d+j]
		}
	}
	pq = make([]float32, rows*m)
	sgemm.Pack(centred, rows, d).Mul(pq, m, pt, m, m, sgemm.Epilogue{}, par)
	pnorm, resid = make([]float32, rows), make([]float32, rows)
	for i := 0; i < rows; i++ {
		var s float64
		for _, v := range pq[i*m : (i+1)*m] {
			s += float64(v) * float64(v)
		}
		pnorm[i] = float32(s)
		resid[i] = float32(math.Sqrt(max(full[i]-s, 0)))
		scale = max(scale, float32(full[i]))
	}
	return pq, pnorm, resid, scale
}

// Search returns, for each of the nq query rows (d values each), the k
// smallest squared distances to the bank, ascending (nq*k values).
func (ix *Index) Search(queries []float32, nq, k int) ([]float32, Stats, error) {
	if k < 1 || k > ix.n {
		return nil, Stats{}, fmt.Errorf("search: k = %d nearest neighbours, but the bank has %d vectors", k, ix.n)
	}
	if len(queries) != nq*ix.d {
		return nil, Stats{}, fmt.Errorf("search: %d query values for %d x %d", len(queries), nq, ix.d)
	}
	out := make([]float32, nq*k)
	pq, qpnorm, qresid, qscale := ix.project(queries, nq, sgemm.Goroutines(ix.workers))
	blocks := (nq + queryBlock - 1) / queryBlock
	var exact atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(ix.workers, blocks); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := ix.newScratch(k)
			for {
				b := int(next.Add(1)) - 1
				if b >= blocks {
					break
				}
				q0, q1 := b*queryBlock, min((b+1)*queryBlock, nq)
				ix.block(s, queries, pq, qpnorm, qresid, qscale, q0, q1, k, out)
			}
			exact.Add(s.exact)
		}()
	}
	wg.Wait()
	return out, Stats{Queries: int64(nq), Exact: exact.Load()}, nil
}

// scratch is one worker's buffers.
type scratch struct {
	bounds []float32 // queryBlock x n
	cands  []cand
	best   []float32 // k smallest distances of the query at hand
	bestI  []int32   // and their bank rows
	exact  int64
}

type cand struct {
	bound float32
	i     int32
}

func (ix *Index) newScratch(k int) *scratch {
	return &scratch{bounds: make([]float32, queryBlock*ix.n), best: make([]float32, k), bestI: make([]int32, k)}
}

// block searches queries q0..q1-1: their bounds against the whole bank as
// one product, then each query's exact distances in bound order.
func (ix *Index) block(s *scratch, queries, pq, qpnorm, qresid []float32, qscale float32, q0, q1, k int, out []float32) {
	n, d, m := ix.n, ix.d, ix.m
	nb := q1 - q0
	bounds := s.bounds[:nb*n]
	// Dot products of the projected queries with the projected bank.
	sgemm.Pack(pq[q0*m:q1*m], nb, m).Mul(bounds, n, ix.pbT, n, n, sgemm.Epilogue{}, sgemm.Serial)
	for j := 0; j < nb; j++ {
		q := q0 + j
		row := bounds[j*n : (j+1)*n]
		qn, qr := qpnorm[q], qresid[q]
		// A float32 bound can exceed the true distance by its rounding;
		// the margin keeps it a lower bound, so pruning drops nothing that
		// a brute-force search would have found smaller.
		margin := 1e-5 * (qscale + ix.scale)
		for i, dot := range row {
			dr := qr - ix.resid[i]
			row[i] = qn + ix.pnorm[i] - 2*dot + dr*dr - margin
		}
		ix.nearest(s, queries[q*d:(q+1)*d], row, k, out[q*k:(q+1)*k])
	}
}

// nearest finds the k nearest bank vectors of query x given its bounds.
func (ix *Index) nearest(s *scratch, x, bounds []float32, k int, out []float32) {
	d := ix.d
	best, bestI := s.best[:k], s.bestI[:k]
	// Start from the k smallest bounds: usually the nearest vectors, so
	// the k-th best distance is small before the pruned pass.
	for i := range best {
		best[i], bestI[i] = float32(math.Inf(1)), -1
	}
	first := s.cands[:0]
	for i, b := range bounds {
		if len(first) < k {
			first = append(first, cand{b, int32(i)})
			if len(first) == k {
				slices.SortFunc(first, byBound)
			}
			continue
		}
		if b < first[k-1].bound {
			insertCand(first, cand{b, int32(i)})
		}
	}
	if len(first) < k {
		slices.SortFunc(first, byBound)
	}
	for _, c := range first {
		insertBest(best, bestI, vec.SqDist(x, ix.vecs[int(c.i)*d:(int(c.i)+1)*d]), c.i)
		bounds[c.i] = float32(math.Inf(1)) // evaluated: not a candidate again
	}
	s.exact += int64(len(first))
	// Every vector whose bound is below the k-th best, nearest bound first.
	limit := best[k-1]
	cands := first[:0]
	for i, b := range bounds {
		if b < limit {
			cands = append(cands, cand{b, int32(i)})
		}
	}
	slices.SortFunc(cands, byBound)
	for _, c := range cands {
		if c.bound >= best[k-1] {
			break
		}
		s.exact++
		insertBest(best, bestI, vec.SqDist(x, ix.vecs[int(c.i)*d:(int(c.i)+1)*d]), c.i)
	}
	s.cands = cands
	copy(out, best)
}

func byBound(a, b cand) int {
	switch {
	case a.bound < b.bound:
		return -1
	case a.bound > b.bound:
		return 1
	}
	return int(a.i - b.i)
}

// insertCand puts c into the sorted list, dropping its last element.
func insertCand(list []cand, c cand) {
	i := len(list) - 1
	for i > 0 && list[i-1].bound > c.bound {
		list[i] = list[i-1]
		i--
	}
	list[i] = c
}

// insertBest puts distance v of row i into the ascending k best.
func insertBest(best []float32, bestI []int32, v float32, i int32) {
	n := len(best)
	if v >= best[n-1] {
		return
	}
	j := n - 1
	for j > 0 && best[j-1] > v {
		best[j], bestI[j] = best[j-1], bestI[j-1]
		j--
	}
	best[j], bestI[j] = v, i
}
