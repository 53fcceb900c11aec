package coreset

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
)

// The selector before per-point bounds (grouped scans, flat when grouping
// stops pruning), kept as the reference that benchmarks time the new one
// against and whose picks the new one must repeat.

// legacySelect is Select with the old selector.
func legacySelect(x []float32, n, d int, cfg Config) []int {
	k := max(int(float64(n)*cfg.Fraction), 1)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7e55e7a))
	p, pd := project(x, n, d, cfg.ProjectTo, rng)
	s := newLegacySelector(p, n, pd)
	s.start(rng, cfg.Starts)
	chosen := make([]int, 0, k)
	for len(chosen) < k {
		c := s.farthest()
		chosen = append(chosen, c)
		s.add(c)
	}
	return chosen
}

// legacySelector keeps, for every point, its distance to the nearest chosen
// centre (or its starting distance while no centre is nearer), with the
// points grouped by that centre. Each group stores its members' vectors
// and its centre's vector contiguously, so that scans read memory in
// order instead of jumping around a matrix far larger than the caches.
type legacySelector struct {
	x      []float32
	n, d   int
	dist   []float32     // current distance of each point
	groups []legacyGroup // group 0: points no centre has claimed yet

	// Where the data defeats the pruning (high-dimensional textures, whose
	// points are all about equally far apart), the groups cost more than
	// they save: the legacySelector then drops them and scans x flat.
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
	legacyFlatFrom  = 2048
	legacyFlatShare = 2.0 / 3
)

type legacyGroup struct {
	centre  []float32 // the centre's vector (nil for group 0)
	members []int32   // points whose nearest centre this is
	vecs    []float32 // their vectors, len(members)*d
	far     float32   // largest dist among members
	farIdx  int32
}

func newLegacySelector(x []float32, n, d int) *legacySelector {
	return &legacySelector{x: x, n: n, d: d, dist: make([]float32, n), flatFrom: legacyFlatFrom}
}

func (s *legacySelector) row(i int) []float32 { return s.x[i*s.d : (i+1)*s.d] }

// start sets every point's distance to its mean distance to m random
// distinct points, as the reference does.
func (s *legacySelector) start(rng *rand.Rand, m int) {
	m = min(max(m, 1), s.n)
	starts := rng.Perm(s.n)[:m]
	inRanges(s.n, func(lo, hi int) {
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
	g := legacyGroup{members: all, vecs: append([]float32(nil), s.x[:s.n*s.d]...)}
	g.refresh(s.dist)
	s.groups = []legacyGroup{g}
}

func (g *legacyGroup) refresh(dist []float32) {
	g.far, g.farIdx = -1, -1
	for _, m := range g.members {
		if dist[m] > g.far {
			g.far, g.farIdx = dist[m], m
		}
	}
}

// farthest returns the point with the largest current distance.
func (s *legacySelector) farthest() int {
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
func (s *legacySelector) add(c int) {
	s.picks++
	if s.flat {
		s.scan(c)
		return
	}
	if s.picks >= s.flatFrom/2 && s.picks&(s.picks-1) == 0 {
		// A power of two: judge the window since the last one.
		window := s.picks / 2
		if s.picks >= s.flatFrom && float64(s.scanned-s.atHalf) > legacyFlatShare*float64(s.n)*float64(window) {
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
	ng := legacyGroup{centre: cv}
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
func (s *legacySelector) scan(c int) {
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
