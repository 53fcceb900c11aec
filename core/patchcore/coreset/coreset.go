// Package coreset selects PatchCore's memory bank: the reference's
// approximate greedy k-center coreset. Patch vectors are projected to a
// few dimensions by a random linear map; the starting distance of every
// point is its mean distance to a few random points; then the point
// farthest from everything chosen so far is taken, again and again.
//
// The selection is exact greedy k-center on the projected points, made
// fast by the triangle inequality: points are grouped by their nearest
// chosen centre, and a whole group is skipped when the new centre is too
// far from the group's centre to be nearer to any of its members.
package coreset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/compute/cpu/vec"
)

// Config is the coreset selection's configuration.
type Config struct {
	// Fraction of the patches kept (0.1 in the reference); 1 keeps all.
	Fraction float64 `json:"fraction"`
	// ProjectTo is the dimension of the random projection (128).
	ProjectTo int `json:"project_to"`
	// Starts is the number of random starting points averaged (10).
	Starts int `json:"starts"`
	// Seed makes the projection and the starting points reproducible.
	Seed uint64 `json:"seed"`
}

// Default is the reference's configuration.
func Default() Config { return Config{Fraction: 0.1, ProjectTo: 128, Starts: 10} }

// Select returns the indices of the chosen rows of the n x d matrix x, in
// the order they were chosen. progress, if not nil, is called with the
// number chosen so far and the total.
func Select(x []float32, n, d int, cfg Config, progress func(done, total int)) ([]int, error) {
	if n == 0 {
		return nil, fmt.Errorf("coreset: no patches to choose from")
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("coreset: %d values for %d x %d", len(x), n, d)
	}
	if cfg.Fraction <= 0 || cfg.Fraction > 1 {
		return nil, fmt.Errorf("coreset: fraction %g is not in (0, 1]", cfg.Fraction)
	}
	if cfg.Fraction == 1 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	k := max(int(float64(n)*cfg.Fraction), 1)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7e55e7a))
	p, pd := project(x, n, d, cfg.ProjectTo, rng)
	s := newSelector(p, n, pd)
	s.start(rng, cfg.Starts)
	return s.pick(k, progress), nil
}

// pick chooses k centres, farthest first.
func (s *selector) pick(k int, progress func(done, total int)) []int {
	chosen := make([]int, 0, k)
	for len(chosen) < k {
		c := s.farthest()
		chosen = append(chosen, c)
		s.add(c)
		if progress != nil && (len(chosen)%256 == 0 || len(chosen) == k) {
			progress(len(chosen), k)
		}
	}
	return chosen
}

// project maps rows to dims dimensions with a random matrix drawn like
// torch.nn.Linear's default initialisation, U(-1/sqrt(d), 1/sqrt(d)).
// Rows already that small are kept as they are.
func project(x []float32, n, d, dims int, rng *rand.Rand) ([]float32, int) {
	if dims <= 0 || dims >= d {
		return x, d
	}
	bound := 1 / math.Sqrt(float64(d))
	w := make([]float32, dims*d)
	for i := range w {
		w[i] = float32((rng.Float64()*2 - 1) * bound)
	}
	// out = x * w^T, as matrix products over chunks of rows.
	wt := make([]float32, d*dims)
	for j := 0; j < dims; j++ {
		for i := 0; i < d; i++ {
			wt[i*dims+j] = w[j*d+i]
		}
	}
	out := make([]float32, n*dims)
	const rows = 1024
	parallelItems((n+rows-1)/rows, func(c int) {
		r0, r1 := c*rows, min((c+1)*rows, n)
		sgemm.Pack(x[r0*d:r1*d], r1-r0, d).Mul(out[r0*dims:r1*dims], dims, wt, dims, dims, sgemm.Epilogue{}, sgemm.Serial)
	})
	return out, dims
}

// selector keeps, for every point, its distance to the nearest chosen
// centre (or its starting distance while no centre is nearer), with the
// points grouped by that centre. Each group stores its members' vectors
// and its centre's vector contiguously, so that scans read memory in
// order instead of jumping around a matrix far larger than the caches.
type selector struct {
	x      []float32
	n, d   int
	dist   []float32 // current distance of each point
	groups []group   // group 0: points no centre has claimed yet

	// Where the data defeats the pruning (high-dimensional textures, whose
	// points are all about equally far apart), the groups cost more than
	// they save: the selector then drops them and scans x flat.
	flat     bool
	next     int   // in flat mode, the farthest point
	picks    int   // centres added so far
	scanned  int64 // members scanned in the grouped mode so far
	atHalf   int64 // scanned when picks was half what it is at the next check
	flatFrom int   // the first check, at this many picks (then at each doubling)
}

// The grouped scan costs about 1.5 times the flat scan per point, so
// flat pays once the groups scan more than 2/3 of the points per pick.
// Early on they always do (few centres, large groups): the share is
// judged over windows of picks, from flatFrom on. On MVTec features with
// MobileNetV2 the window [1024, 2048) scans 33% for bottle and 97% for
// magnetic tile, whose coreset then takes 0.7 times as long.
const (
	flatFrom  = 2048
	flatShare = 2.0 / 3
)

type group struct {
	centre  []float32 // the centre's vector (nil for group 0)
	members []int32   // points whose nearest centre this is
	vecs    []float32 // their vectors, len(members)*d
	far     float32   // largest dist among members
	farIdx  int32
}

func newSelector(x []float32, n, d int) *selector {
	return &selector{x: x, n: n, d: d, dist: make([]float32, n), flatFrom: flatFrom}
}

func (s *selector) row(i int) []float32 { return s.x[i*s.d : (i+1)*s.d] }

// start sets every point's distance to its mean distance to m random
// distinct points, as the reference does.
func (s *selector) start(rng *rand.Rand, m int) {
	m = min(max(m, 1), s.n)
	starts := rng.Perm(s.n)[:m]
	parallel(s.n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var sum float64
			for _, j := range starts {
				sum += math.Sqrt(float64(sqdist(s.row(i), s.row(j))))
			}
			s.dist[i] = float32(sum / float64(m))
		}
	})
	all := make([]int32, s.n)
	for i := range all {
		all[i] = int32(i)
	}
	g := group{members: all, vecs: append([]float32(nil), s.x[:s.n*s.d]...)}
	g.refresh(s.dist)
	s.groups = []group{g}
}

func (g *group) refresh(dist []float32) {
	g.far, g.farIdx = -1, -1
	for _, m := range g.members {
		if dist[m] > g.far {
			g.far, g.farIdx = dist[m], m
		}
	}
}

// farthest returns the point with the largest current distance.
func (s *selector) farthest() int {
	if s.flat {
		return s.next
	}
	best, idx := float32(-1), int32(0)
	for i := range s.groups {
		if g := &s.groups[i]; g.farIdx >= 0 && g.far > best {
			best, idx = g.far, g.farIdx
		}
	}
	return int(idx)
}

// add makes point c a centre: every point nearer to c than to its current
// centre moves to c's group.
func (s *selector) add(c int) {
	s.picks++
	if s.flat {
		s.scan(c)
		return
	}
	if s.picks >= s.flatFrom/2 && s.picks&(s.picks-1) == 0 {
		// A power of two: judge the window since the last one.
		window := s.picks / 2
		if s.picks >= s.flatFrom && float64(s.scanned-s.atHalf) > flatShare*float64(s.n)*float64(window) {
			s.flat, s.groups = true, nil
			s.scan(c)
			return
		}
		s.atHalf = s.scanned
	}
	d := s.d
	cv := append([]float32(nil), s.row(c)...)
	took := make([][]int32, len(s.groups))
	tookVecs := make([][]float32, len(s.groups))
	// Groups are independent; split them over the cores.
	parallelItems(len(s.groups), func(gi int) {
		g := &s.groups[gi]
		if g.farIdx < 0 {
			return
		}
		if g.centre != nil {
			// A member p with d(p, a) <= far cannot be nearer to c when
			// d(a, c) >= 2*far: d(p, c) >= d(a, c) - d(p, a) >= far.
			if dc := float32(math.Sqrt(float64(sqdist(g.centre, cv)))); dc >= 2*g.far {
				return
			}
		}
		atomic.AddInt64(&s.scanned, int64(len(g.members)))
		kept := 0
		for i, m := range g.members {
			v := g.vecs[i*d : (i+1)*d]
			if dm := float32(math.Sqrt(float64(sqdist(v, cv)))); dm < s.dist[m] {
				s.dist[m] = dm
				took[gi] = append(took[gi], m)
				tookVecs[gi] = append(tookVecs[gi], v...)
				continue
			}
			if kept != i {
				g.members[kept] = m
				copy(g.vecs[kept*d:(kept+1)*d], v)
			}
			kept++
		}
		if kept != len(g.members) {
			g.members = g.members[:kept]
			g.vecs = g.vecs[:kept*d]
			if cap(g.members) > 2*kept+64 {
				// Give back what a shrunken group no longer needs.
				g.members = append([]int32(nil), g.members...)
				g.vecs = append([]float32(nil), g.vecs...)
			}
			g.refresh(s.dist)
		}
	})
	// Drop groups that lost all their members (never group 0).
	kept := s.groups[:1]
	for _, g := range s.groups[1:] {
		if len(g.members) > 0 {
			kept = append(kept, g)
		}
	}
	s.groups = kept
	ng := group{centre: cv}
	for i, t := range took {
		ng.members = append(ng.members, t...)
		ng.vecs = append(ng.vecs, tookVecs[i]...)
	}
	// The centre itself is at distance 0 from its own group.
	s.dist[c] = 0
	ng.refresh(s.dist)
	s.groups = append(s.groups, ng)
}

// scan is add in flat mode: every point's distance to c, the nearer kept,
// and the new farthest point found on the way (the first of equals, as a
// plain greedy loop would).
func (s *selector) scan(c int) {
	cv := s.row(c)
	const rows = 4096
	chunks := (s.n + rows - 1) / rows
	far := make([]float32, chunks)
	farIdx := make([]int, chunks)
	parallelItems(chunks, func(k int) {
		best, idx := float32(-1), 0
		for i := k * rows; i < min((k+1)*rows, s.n); i++ {
			if dm := float32(math.Sqrt(float64(sqdist(s.row(i), cv)))); dm < s.dist[i] {
				s.dist[i] = dm
			}
			if s.dist[i] > best {
				best, idx = s.dist[i], i
			}
		}
		far[k], farIdx[k] = best, idx
	})
	best := float32(-1)
	for k := range far {
		if far[k] > best {
			best, s.next = far[k], farIdx[k]
		}
	}
}

func sqdist(a, b []float32) float32 { return vec.SqDist(a, b) }

func parallel(n int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(i*n/w, (i+1)*n/w)
	}
	wg.Wait()
}

// parallelItems runs f(0..n-1) over the cores, claiming items in chunks.
func parallelItems(n int, f func(int)) {
	const chunk = 32
	w := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for j := lo; j < min(lo+chunk, n); j++ {
					f(j)
				}
			}
		}()
	}
	wg.Wait()
}
