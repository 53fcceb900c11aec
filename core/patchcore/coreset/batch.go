package coreset

import (
	"math"
	"math/bits"
	"slices"
	"sort"

	"github.com/tessera/tessera/core/compute/cpu/vec"
	"github.com/tessera/tessera/core/internal/parallel"
)

// batch is how many centres are chosen before the groups take them in.
// Taking in one centre reads every group it could change, most of the
// data; taking in a batch reads it once for all of them, so the selection
// works from cache instead of memory. Between two batches the groups are
// stale: a point's r is an upper bound, and the search for the farthest
// point brings the points it looks at up to date with the pending centres
// (evaluate) before trusting their distance.
const batch = 64 // at most 64: a member's centres to check are one uint64

// chunk is how many blocks of a group's members leaveAll bounds at once.
const chunk = 16

// pending holds the centres chosen since the groups were last brought up
// to date, and what the search for the farthest point learnt of them.
type pending struct {
	ids  []int
	vecs []float32 // len(ids) x d
	low  []float32 // len(ids) x lowDims, as rows

	// rr is a point's distance to the nearest centre, pending ones up to
	// stamp included (valid where stamp > 0); touched lists those points.
	rr      []float32
	stamp   []int32
	touched []int32
}

func newPending(n, d int) pending {
	return pending{
		vecs: make([]float32, 0, batch*d), low: make([]float32, 0, batch*lowDims),
		rr: make([]float32, n), stamp: make([]int32, n),
	}
}

// evaluate returns point p's distance to the nearest centre, the pending
// ones included, computed as the plain greedy loop computes it.
func (s *selector) evaluate(p int) float32 {
	q := &s.pend
	if len(q.ids) == 0 {
		return s.dist[p]
	}
	st := int(q.stamp[p])
	r := s.dist[p]
	if st > 0 {
		r = q.rr[p]
	} else {
		q.touched = append(q.touched, int32(p))
	}
	pl, pv := s.low[p*lowDims:(p+1)*lowDims], s.row(p)
	for j := st; j < len(q.ids); j++ {
		if sqdist(pl, q.low[j*lowDims:(j+1)*lowDims])*boundSlack >= r*r {
			continue
		}
		if dm := float32(math.Sqrt(float64(sqdist(pv, q.vecs[j*s.d:(j+1)*s.d])))); dm < r {
			r = dm
		}
	}
	q.rr[p], q.stamp[p] = r, int32(len(q.ids))
	return r
}

// farthestPending returns the point with the largest distance to the
// centres, pending ones included, the lowest index among equals. A group's
// stored r are upper bounds, so a group whose largest one is below the best
// found so far cannot hold the answer, nor can the members below it.
func (s *selector) farthestPending() int {
	best, idx := float32(-1), int32(-1)
	consider := func(g *group) {
		for i := len(g.r) - 1; i >= 0 && g.r[i] >= best; i-- {
			m := g.members[i]
			if m < 0 {
				continue
			}
			if v := s.evaluate(int(m)); v > best || v == best && m < idx {
				best, idx = v, m
			}
		}
	}
	// The group most likely to hold it first, then all that still could.
	top, topFar := -1, float32(-1)
	for g, f := range s.far {
		if f > topFar {
			top, topFar = g, f
		}
	}
	for p := range s.free {
		consider(&s.free[p])
	}
	if top >= 0 {
		consider(&s.groups[top])
	}
	for g, f := range s.far {
		if f >= best && g != top {
			consider(&s.groups[g])
		}
	}
	return int(idx)
}

// choose makes point c a pending centre.
func (s *selector) choose(c int) {
	q := &s.pend
	q.ids = append(q.ids, c)
	q.vecs = append(q.vecs, s.row(c)...)
	q.low = append(q.low, s.low[c*lowDims:(c+1)*lowDims]...)
}

// apply brings the groups up to date with the pending centres: every point
// nearer to one of them than to its centre moves to the group of the
// nearest (the first chosen among equals, as one centre at a time would).
func (s *selector) apply() {
	q := &s.pend
	np, ng, d := len(q.ids), len(s.groups), s.d
	if np == 0 {
		return
	}
	// Bounds on every group centre's distance to each pending centre, and
	// masks of the groups whose bound is below 4 far^2: only those can lose
	// members to it.
	per := blocked(ng) / lowDims
	s.cBound = slices.Grow(s.cBound[:0], np*per)[:np*per]
	s.cMask = slices.Grow(s.cMask[:0], np*per/vec.Block)[:np*per/vec.Block]
	s.cThr = slices.Grow(s.cThr[:0], per)[:per]
	for gi := range s.cThr {
		s.cThr[gi] = -1 // padding
		if gi < ng {
			s.cThr[gi] = 4 * s.far[gi] * s.far[gi]
		}
	}
	parallelItems(np, func(j int) {
		vec.SqDistBlocksBelow(s.cLow, q.low[j*lowDims:(j+1)*lowDims], s.cThr, s.cBound[j*per:(j+1)*per], s.cMask[j*per/vec.Block:(j+1)*per/vec.Block], boundSlack)
	})
	// The masks turned around: per group, one word of the pending centres
	// that passed, so that a group reads its set bits, not np of them.
	blocks := per / vec.Block
	s.cWant = slices.Grow(s.cWant[:0], blocks*vec.Block)[:blocks*vec.Block]
	parallelItems((blocks+63)/64, func(c int) {
		b0, b1 := c*64, min((c+1)*64, blocks)
		want := s.cWant[b0*vec.Block : b1*vec.Block]
		clear(want)
		for j := range np {
			for b, m := range s.cMask[j*blocks+b0 : j*blocks+b1] {
				for ; m != 0; m &= m - 1 {
					want[b*vec.Block+bits.TrailingZeros16(m)] |= 1 << j
				}
			}
		}
	})
	// The free points: no centre, so every member may move, to any
	// pending centre.
	parallel.For(len(s.moved), len(s.free), 1, func(w, p int) {
		if len(s.free[p].r) == 0 {
			return
		}
		sc := &s.scratch[w]
		sc.js, sc.half = sc.js[:0], sc.half[:0]
		for j := range np {
			sc.js, sc.half = append(sc.js, int32(j)), append(sc.half, 0)
		}
		s.moved[w] = s.free[p].leaveAll(q, d, s.moved[w], sc)
	})
	s.forItems(ng, func(w, gi int) {
		sc := &s.scratch[w]
		f := s.far[gi]
		if f <= 0 {
			return
		}
		// The pending centres c that can take members: d(a, c) < 2 far.
		lim := 4 * f * f
		a := s.centres[gi*d : (gi+1)*d]
		sc.js, sc.half = sc.js[:0], sc.half[:0]
		for w := s.cWant[gi]; w != 0; w &= w - 1 {
			j := bits.TrailingZeros64(w)
			if dc2 := sqdist(a, q.vecs[j*d:(j+1)*d]); dc2 < lim {
				sc.js, sc.half = append(sc.js, int32(j)), append(sc.half, float32(math.Sqrt(float64(dc2)))/2)
			}
		}
		if len(sc.js) == 0 {
			return
		}
		g := &s.groups[gi]
		s.moved[w] = g.leaveAll(q, d, s.moved[w], sc)
		if n := len(g.r); n > 0 {
			s.far[gi] = g.r[n-1]
		} else {
			s.far[gi] = 0
		}
	})
	// One new group per pending centre, in the order chosen, its members
	// sorted by r (ties: the lowest index last, so the farthest picks it)
	// and copied once into storage of their own.
	// Bucketed by pending centre first (a counting sort), then each
	// bucket sorted and copied on its own core.
	count := make([]int, np+1)
	for _, list := range s.moved {
		for _, m := range list {
			count[m.to+1]++
		}
	}
	for j := range np {
		count[j+1] += count[j]
	}
	all := slices.Grow(s.movedAll[:0], count[np])[:count[np]]
	next := append([]int(nil), count[:np]...)
	for w, list := range s.moved {
		for _, m := range list {
			all[next[m.to]] = m
			next[m.to]++
		}
		clear(list)
		s.moved[w] = list[:0]
	}
	groups := make([]group, np)
	parallelItems(np, func(j int) {
		bucket := all[count[j]:count[j+1]]
		slices.SortFunc(bucket, func(a, b moved) int { return memberOrder(a.r, b.r, a.i, b.i) })
		n := len(bucket)
		g := group{members: make([]int32, n), r: make([]float32, n), vecs: make([]float32, n*d), low: make([]float32, blocked(n))}
		for k, m := range bucket {
			g.members[k], g.r[k] = m.i, m.r
			copy(g.vecs[k*d:(k+1)*d], m.vec)
			setLow(g.low, k, m.lowv[:])
			s.dist[m.i] = m.r
		}
		groups[j] = g
	})
	clear(all)
	s.movedAll = all[:0]
	for j, c := range q.ids {
		s.dist[c] = 0 // a centre is at distance 0 from its own group
		g := groups[j]
		s.groups = append(s.groups, g)
		s.centres = append(s.centres, q.vecs[j*d:(j+1)*d]...)
		if len(s.cLow) < blocked(ng+j+1) {
			s.cLow = append(s.cLow, make([]float32, blockSize)...)
		}
		setLow(s.cLow, ng+j, q.low[j*lowDims:(j+1)*lowDims])
		f := float32(0)
		if n := len(g.r); n > 0 {
			f = g.r[n-1]
		}
		s.far = append(s.far, f)
	}
	for _, p := range q.touched {
		q.stamp[p] = 0
	}
	q.ids, q.vecs, q.low, q.touched = q.ids[:0], q.vecs[:0], q.low[:0], q.touched[:0]
}

// leaveAll removes from g the members nearer to one of the pending centres
// sc.js than to their own centre, and appends them to out with their new
// distance and the pending centre they move to. sc.half[k] is half the
// distance from g's centre to pending centre sc.js[k] (0 for the free
// points): a member with r <= half cannot be nearer to that one.
func (g *group) leaveAll(q *pending, d int, out []moved, sc *scratch) []moved {
	minHalf := slices.Min(sc.half)
	lo := sort.Search(len(g.r), func(i int) bool { return g.r[i] > minHalf })
	nj := len(sc.js)
	const rows = chunk * vec.Block
	if len(sc.bounds) < nj*rows {
		sc.bounds, sc.masks = make([]float32, nj*rows), make([]uint16, nj*chunk)
	}
	left := 0
	for first := lo / vec.Block * vec.Block; first < len(g.r); first += rows {
		nb := min(chunk, (len(g.r)-first+vec.Block-1)/vec.Block)
		end := min(first+rows, len(g.r))
		blocks := g.low[first/vec.Block*blockSize : (first/vec.Block+nb)*blockSize]
		// A member's bound must beat its r at the batch's start to matter.
		thr := sc.thr[:nb*vec.Block]
		for c := range thr {
			thr[c] = -1 // padding, and members no centre may take
			if i := first + c; i >= lo && i < end && g.members[i] >= 0 {
				thr[c] = g.r[i] * g.r[i]
			}
		}
		// Which pending centres each member must be checked against.
		want := sc.want[:end-first]
		clear(want)
		for k, j := range sc.js {
			bounds, masks := sc.bounds[k*rows:k*rows+nb*vec.Block], sc.masks[k*chunk:k*chunk+nb]
			vec.SqDistBlocksBelow(blocks, q.low[int(j)*lowDims:int(j+1)*lowDims], thr, bounds, masks, boundSlack)
			for b, m := range masks {
				for ; m != 0; m &= m - 1 {
					c := b*vec.Block + bits.TrailingZeros16(m)
					if g.r[first+c] > sc.half[k] {
						want[c] |= 1 << k
					}
				}
			}
		}
		for c, w := range want {
			if w == 0 {
				continue
			}
			i := first + c
			r, to := g.r[i], int32(-1)
			v := g.vecs[i*d : (i+1)*d]
			// The pending centres in the order chosen, so that a member
			// moves to the first of equally near ones.
			for ; w != 0; w &= w - 1 {
				k := bits.TrailingZeros64(w)
				if sc.bounds[k*rows+c]*boundSlack >= r*r {
					continue
				}
				// The distance as the plain greedy loop computes it, so
				// the picks repeat it exactly.
				j := sc.js[k]
				if dm := float32(math.Sqrt(float64(sqdist(v, q.vecs[int(j)*d:int(j+1)*d])))); dm < r {
					r, to = dm, j
				}
			}
			if to >= 0 {
				out = append(out, moved{i: g.members[i], r: r, to: to, vec: v, lowv: lowAt(g.low, i)})
				g.members[i] = -1
				left++
			}
		}
	}
	return g.dropMarked(left, d, out)
}
