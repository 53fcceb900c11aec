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
// looks closer only at the vectors whose bound is below the k-th best
// distance found so far: first a second, tighter bound of the same form
// from more directions (Dims2, read per candidate: an eighth of a full
// vector), and only where that is below too, the exact distance. The
// same neighbours as brute force, up to float rounding. Each query starts
// from the previous query's neighbours (neighbouring patches are alike),
// so the k-th best is small from the start.
package search

import (
	"fmt"
	"math"
	"slices"

	"github.com/tessera/tessera/core/internal/parallel"

	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/compute/cpu/vec"
	"github.com/tessera/tessera/core/patchcore/pca"
)

// Options configures an Index.
type Options struct {
	// Dims is m, the number of principal directions the first bound is
	// made from, for every bank vector (32 by default: more make tighter
	// bounds but cost more per vector).
	Dims int
	// Dims2 is the number of directions of the second bound, for the
	// candidates the first leaves (128 by default; -1: no second bound).
	Dims2 int
	// Workers is how many goroutines search at once (0: one).
	Workers int
}

// DefaultDims and DefaultDims2 are the projection sizes that measured
// fastest on real banks.
const (
	DefaultDims  = 32
	DefaultDims2 = 128
)

// queryBlock is how many queries share one bound product: enough to make
// it a real matrix product, few enough that their bound rows (queryBlock
// x n) stay small. A multiple of the products' row panels (12 with
// AVX-512, 6 elsewhere): 16 left four rows to a slower call, and the
// bank's side of the product is read once a block. On the 2-core AMD
// machine of 2026-12-02, alternated with 16: ResNet-50 v2's bottle and
// magnetic-tile banks 1.16x and 1.18x faster, MobileNetV2's bottle bank
// 1.00x.
const queryBlock = 24

// Index is a bank laid out for exact pruned search.
type Index struct {
	n, d, m int
	vecs    []float32 // the bank, n x d (not copied)
	half    []uint16  // or the bank in half precision (NewHalf), converted row by row
	mean    []float32 // the bank's mean, d
	// dirs are max(m, m2) orthonormal directions (rows, d values each): the
	// first m make the first bound, the first m2 the second.
	dirs []float32
	// bankT holds, for every bank vector b (a column), P(b-mean), |R(b-mean)|
	// and |b-mean|^2: (m+2) x n. With the query side (-2 P(q-mean),
	// -2 |R(q-mean)|, 1), one product gives bound - |q-mean|^2.
	bankT []float32
	// The second bound: m2 directions, and per bank vector its m2
	// coordinates and its residual norm, (m2+1) values a row.
	m2      int
	bank2   []float32
	scale   float32 // max |b-mean|^2, for the rounding margin
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
	ix.mean = pca.Mean(vectors, n, d)
	// One estimate serves both bounds: its first m directions are the
	// first bound's, all m2 the second's.
	m2 := opt.Dims2
	if m2 == 0 {
		m2 = DefaultDims2
	}
	m2 = min(m2, d)
	if m2 <= m {
		m2 = 0 // (Dims2 < 0, or a bank of few dimensions: no second bound)
	}
	dirs, err := pca.Directions(vectors, n, d, ix.mean, max(m, m2), par)
	if err != nil {
		return nil, err
	}
	ix.dirs, ix.m2 = dirs, m2
	p := ix.project(vectors, n, par)
	ix.scale = p.scale
	ix.bankT = make([]float32, (m+2)*n)
	for i := 0; i < n; i++ {
		for k, v := range p.coords(i, m) {
			ix.bankT[k*n+i] = v
		}
		ix.bankT[m*n+i] = p.resid(i, m)
		ix.bankT[(m+1)*n+i] = float32(p.full[i])
	}
	ix.bank2 = p.second(m2)
	return ix, nil
}

// NewHalf is New for a bank held in half precision (not copied), which
// stays so: the index converts each row it reads exactly into float32, so
// it finds what New finds on the converted bank, in half the memory.
func NewHalf(half []uint16, n, d int, opt Options) (*Index, error) {
	if n < 1 || d < 1 || len(half) != n*d {
		return nil, fmt.Errorf("search: %d values for a bank of %d x %d", len(half), n, d)
	}
	v := make([]float32, n*d) // for the directions and the bounds only
	vec.HalfToFloat(v, half)
	ix, err := New(v, n, d, opt)
	if err != nil {
		return nil, err
	}
	ix.vecs, ix.half = nil, half
	return ix, nil
}

// Bytes is the memory the index holds, the bank's vectors included.
func (ix *Index) Bytes() int64 {
	return int64(4*(len(ix.vecs)+len(ix.mean)+len(ix.dirs)+len(ix.bankT)+len(ix.bank2)) + 2*len(ix.half))
}

// row returns bank row i as float32: in place, or converted into s.row.
func (ix *Index) row(s *scratch, i int32) []float32 {
	d := ix.d
	if ix.half == nil {
		return ix.vecs[int(i)*d : (int(i)+1)*d]
	}
	vec.HalfToFloat(s.row, ix.half[int(i)*d:(int(i)+1)*d])
	return s.row
}

// projected is rows centred on the bank's mean, along the index's
// directions: coordinates (rows x w) and squared norms.
type projected struct {
	c     []float32
	w     int
	full  []float64 // |x-mean|^2
	scale float32   // the largest of them
}

func (p *projected) coords(i, m int) []float32 { return p.c[i*p.w : i*p.w+m] }

// resid is the norm of row i's part outside the first m directions.
func (p *projected) resid(i, m int) float32 {
	var s float64
	for _, v := range p.coords(i, m) {
		s += float64(v) * float64(v)
	}
	return float32(math.Sqrt(max(p.full[i]-s, 0)))
}

// second lays the rows out for the second bound: per row its first m2
// coordinates and the norm of the rest, (m2+1) values (nil for m2 = 0).
func (p *projected) second(m2 int) []float32 {
	if m2 == 0 {
		return nil
	}
	rows := len(p.full)
	out := make([]float32, rows*(m2+1))
	for i := 0; i < rows; i++ {
		copy(out[i*(m2+1):], p.coords(i, m2))
		out[i*(m2+1)+m2] = p.resid(i, m2)
	}
	return out
}

// project centres rows vectors on the bank's mean and takes their
// coordinates along all the index's directions, as one product.
func (ix *Index) project(x []float32, rows int, par sgemm.Parallel) *projected {
	d, w := ix.d, len(ix.dirs)/ix.d
	centred := make([]float32, rows*d)
	p := &projected{w: w, full: make([]float64, rows), c: make([]float32, rows*w)}
	for i := 0; i < rows; i++ {
		src, dst := x[i*d:(i+1)*d], centred[i*d:(i+1)*d]
		var s float64
		for j := range dst {
			v := src[j] - ix.mean[j]
			dst[j] = v
			s += float64(v) * float64(v)
		}
		p.full[i] = s
		p.scale = max(p.scale, float32(s))
	}
	dt := make([]float32, d*w) // the directions transposed, d x w
	for k := 0; k < w; k++ {
		for j := 0; j < d; j++ {
			dt[j*w+k] = ix.dirs[k*d+j]
		}
	}
	sgemm.Pack(centred, rows, d).Mul(p.c, w, dt, w, w, sgemm.Epilogue{}, par)
	return p
}

// Len is the number of bank vectors.
func (ix *Index) Len() int { return ix.n }

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
	m := ix.m
	p := ix.project(queries, nq, sgemm.Goroutines(ix.workers))
	// The query side of the bound product: (-2 P(q-mean), -2 |R(q-mean)|, 1).
	qaug := make([]float32, nq*(m+2))
	qfull := make([]float32, nq)
	for i := 0; i < nq; i++ {
		row := qaug[i*(m+2) : (i+1)*(m+2)]
		for j, v := range p.coords(i, m) {
			row[j] = -2 * v
		}
		row[m], row[m+1] = -2*p.resid(i, m), 1
		qfull[i] = float32(p.full[i])
	}
	// A float32 bound can exceed the true distance by its rounding; the
	// margin keeps it a lower bound, so pruning drops nothing that brute
	// force would have found smaller.
	margin := 1e-5 * (p.scale + ix.scale)
	q2 := p.second(ix.m2)
	blocks := (nq + queryBlock - 1) / queryBlock
	workers := max(min(ix.workers, blocks), 1)
	scratch := make([]*scratch, workers)
	parallel.For(workers, blocks, 1, func(w, b int) {
		if scratch[w] == nil {
			scratch[w] = ix.newScratch(k)
		}
		q0, q1 := b*queryBlock, min((b+1)*queryBlock, nq)
		ix.block(scratch[w], queries, q2, qaug, qfull, margin, q0, q1, k, out)
	})
	var exact int64
	for _, s := range scratch {
		if s != nil {
			exact += s.exact
		}
	}
	return out, Stats{Queries: int64(nq), Exact: exact}, nil
}

// scratch is one worker's buffers.
type scratch struct {
	bounds []float32 // queryBlock x n
	cands  []cand
	best   []float32 // k smallest distances of the query at hand
	bestI  []int32   // and their bank rows
	row    []float32 // a half-precision bank's row, converted
	under  []int32   // rows whose bound is under a query's first limit
	exact  int64
}

type cand struct {
	bound float32
	i     int32
}

func (ix *Index) newScratch(k int) *scratch {
	return &scratch{bounds: make([]float32, queryBlock*ix.n), best: make([]float32, k), bestI: make([]int32, k), row: make([]float32, ix.d), under: make([]int32, ix.n)}
}

// block searches queries q0..q1-1: their bounds against the whole bank as
// one product, then each query's exact distances where the bound allows.
// Consecutive queries are neighbouring patches, whose nearest bank vectors
// are alike: each query starts from the previous one's neighbours.
func (ix *Index) block(s *scratch, queries, q2, qaug, qfull []float32, margin float32, q0, q1, k int, out []float32) {
	n, d, m := ix.n, ix.d, ix.m
	nb := q1 - q0
	bounds := s.bounds[:nb*n]
	sgemm.Pack(qaug[q0*(m+2):q1*(m+2)], nb, m+2).Mul(bounds, n, ix.bankT, n, n, sgemm.Epilogue{}, sgemm.Serial)
	var hint []int32
	for j := 0; j < nb; j++ {
		q := q0 + j
		var x2 []float32
		if q2 != nil {
			x2 = q2[q*(ix.m2+1) : (q+1)*(ix.m2+1)]
		}
		hint = ix.nearest(s, queries[q*d:(q+1)*d], x2, bounds[j*n:(j+1)*n], qfull[q]-margin, margin, hint, k, out[q*k:(q+1)*k])
	}
}

// nearest finds the k nearest bank vectors of query x. bounds[i] + off is
// a lower bound of its squared distance to bank vector i. It evaluates the
// hinted rows first (or the k smallest bounds of a sample of the bank),
// then every row whose bound is below the k-th best so far, and returns
// the rows it found, the next query's hint.
func (ix *Index) nearest(s *scratch, x, x2, bounds []float32, off, margin float32, hint []int32, k int, out []float32) []int32 {
	n := ix.n
	best, bestI := s.best[:k], s.bestI[:k]
	for i := range best {
		best[i], bestI[i] = float32(math.Inf(1)), -1
	}
	eval := func(i int32) {
		s.exact++
		insertBest(best, bestI, vec.SqDist(x, ix.row(s, i)), i)
		bounds[i] = float32(math.Inf(1)) // evaluated: not a candidate again
	}
	if len(hint) != k {
		// The k smallest bounds among a sample of the bank.
		step := max(1, n/(64*k))
		first := s.cands[:0]
		for i := 0; i < n; i += step {
			c := cand{bounds[i], int32(i)}
			if len(first) < k {
				first = append(first, c)
				if len(first) == k {
					slices.SortFunc(first, byBound)
				}
			} else if c.bound < first[k-1].bound {
				insertCand(first, c)
			}
		}
		for len(first) < k { // a sample smaller than k: take any others
			for i := 0; i < n && len(first) < k; i++ {
				if !slices.ContainsFunc(first, func(c cand) bool { return c.i == int32(i) }) {
					first = append(first, cand{bounds[i], int32(i)})
				}
			}
		}
		hint = hint[:0]
		for _, c := range first {
			hint = append(hint, c.i)
		}
		s.cands = first
	}
	for _, i := range hint {
		eval(i)
	}
	// One pass: every row whose bound is below the k-th best, which only
	// shrinks as the pass goes. The rows under the limit the hint set are
	// found first, with a vector compare (few are: 0.05-0.3% on a real
	// bank), then taken in order under the shrinking limit, which visits
	// the rows a scalar pass would.
	limit := best[k-1] - off
	w2 := ix.m2 + 1
	for _, i := range s.under[:vec.Below(s.under, bounds, limit)] {
		if bounds[i] < limit {
			if x2 != nil && vec.SqDist(x2, ix.bank2[int(i)*w2:(int(i)+1)*w2])-margin >= best[k-1] {
				continue // the second bound rules it out
			}
			eval(i)
			limit = best[k-1] - off
		}
	}
	copy(out, best)
	return append(hint[:0], bestI...)
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
