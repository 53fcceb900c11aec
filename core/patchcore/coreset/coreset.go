// Package coreset selects PatchCore's memory bank: the reference's
// approximate greedy k-center coreset. Patch vectors are projected to a
// few dimensions by a random linear map; the starting distance of every
// point is its mean distance to a few random points; then the point
// farthest from everything chosen so far is taken, again and again.
//
// The selection is exact greedy k-center on the projected points, made
// fast by the triangle inequality: points are grouped by their nearest
// chosen centre and sorted by their distance to it, so each new centre
// reads only the members it could be nearer to (see selector); and by
// taking centres into the groups in batches (see batch), so that the data
// is read once per batch rather than once per centre.
package coreset

import (
	"cmp"
	"fmt"
	"github.com/tessera/tessera/core/internal/parallel"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/tessera/tessera/core/compute/cpu/sgemm"
	"github.com/tessera/tessera/core/compute/cpu/vec"
	"github.com/tessera/tessera/core/patchcore/pca"
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
		c := s.farthestPending()
		chosen = append(chosen, c)
		s.choose(c)
		if len(s.pend.ids) == batch || len(chosen) == k {
			s.apply()
		}
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

// selector keeps, for every point, its distance r to the nearest chosen
// centre (or its starting distance while no centre is nearer), with the
// points grouped by that centre. A group stores its members sorted by r,
// ascending, with their vectors contiguous in the same order. A member p
// of the group of centre a cannot be nearer to a new centre c when
// d(a, c) >= 2 r(p) (then d(p, c) >= d(a, c) - r(p) >= r(p)), so for each
// group only the tail with r > d(a, c)/2 is read: per-point bounds at the
// cost of one comparison per group. Members that stay keep their r, so the
// order holds.
//
// Both tests first use a lower bound: every point also has a few
// coordinates along the principal directions of the projected points
// (lowDims of them, centred), whose distance is at most the full one.
// That skips most groups, and most tail members, without reading their
// full vectors. The coordinates are kept in blocks of 16 points, so that
// vec.SqDistBlocksBelow bounds 16 at once (one lane each, in AVX-512 or wasm
// SIMD) instead of one call per point.
type selector struct {
	x        []float32
	n, d     int
	low      []float32 // n x lowDims: the principal coordinates
	dist     []float32 // current r of each point
	free     []group   // points no centre has claimed yet (starting distances)
	groups   []group   // one per centre, in the order chosen
	centres  []float32 // the centres' vectors, len(groups) x d
	cLow     []float32 // and their principal coordinates, in blocks (see group.low)
	cBound   []float32 // apply's scratch: the bounds of cMask, which alone is read
	cMask    []uint16  // which of those are below the group's 4 far^2
	cWant    []uint64  // the same per group: bit j for pending centre j
	cThr     []float32 // per group, 4 far^2
	far      []float32 // largest r in each group (0 when it has only r = 0)
	moved    [][]moved // per worker: the points leaving for the new centre
	scratch  []scratch // per worker
	pend     pending   // centres chosen but not yet taken in by the groups
	movedAll []moved   // apply's scratch: every worker's moved points
}

// scratch holds a worker's bounds for a few blocks of a tail, and the
// members among them whose exact distance is needed.
type scratch struct {
	bounds []float32 // a chunk's bounds, per pending centre
	masks  []uint16  // which of them fail to rule a member out
	thr    []float32 // the chunk's members' r^2
	want   []uint64  // per member, the pending centres to check it against
	js     []int32   // the pending centres a group's members may move to
	half   []float32 // half their distance to the group's centre
}

// lowDims is how many principal coordinates the bounds use: one block
// row of vec.SqDistBlocksBelow, which computes the bounds of 16 points at once.
const lowDims = vec.Block

// blockSize is the values of one block of principal coordinates.
const blockSize = vec.Block * lowDims

// blocked is the length of the blocks holding n points' coordinates.
func blocked(n int) int { return (n + vec.Block - 1) / vec.Block * blockSize }

// setLow writes point i's coordinates v into blocks: value j of the
// block's row m at j*vec.Block+m.
func setLow(blocks []float32, i int, v []float32) {
	b := blocks[i/vec.Block*blockSize:]
	m := i % vec.Block
	for j, x := range v[:lowDims] {
		b[j*vec.Block+m] = x
	}
}

// lowAt reads point i's coordinates back out of blocks.
func lowAt(blocks []float32, i int) (v [lowDims]float32) {
	b := blocks[i/vec.Block*blockSize:]
	m := i % vec.Block
	for j := range v {
		v[j] = b[j*vec.Block+m]
	}
	return v
}

// boundSlack absorbs the float32 rounding of a bound, so that it prunes
// nothing an exact bound would keep.
const boundSlack = 1 - 1e-4

type group struct {
	members []int32   // -1: left for another group
	r       []float32 // ascending
	vecs    []float32 // len(members) x d
	low     []float32 // principal coordinates, in blocks of vec.Block members (see setLow)
	dead    int       // members marked -1
}

// moved is a point leaving its group for the new centre; vec points into
// the group's storage, which stays put until add copies it.
type moved struct {
	i, to int32 // the point, and the pending centre it moves to
	r     float32
	vec   []float32
	lowv  [lowDims]float32
}

func newSelector(x []float32, n, d int) *selector {
	s := &selector{x: x, n: n, d: d, dist: make([]float32, n)}
	s.low = make([]float32, n*lowDims)
	if d > lowDims {
		mean := pca.Mean(x, n, d)
		dirs, err := pca.Directions(x, n, d, mean, lowDims, sgemm.Goroutines(runtime.GOMAXPROCS(0)))
		if err == nil {
			// low = (x - mean) dirs^T, as a product over chunks of rows.
			dt := make([]float32, d*lowDims)
			for a := 0; a < lowDims; a++ {
				for j := 0; j < d; j++ {
					dt[j*lowDims+a] = dirs[a*d+j]
				}
			}
			const rows = 1024
			parallelItems((n+rows-1)/rows, func(c int) {
				r0, r1 := c*rows, min((c+1)*rows, n)
				cen := make([]float32, (r1-r0)*d)
				for i := r0; i < r1; i++ {
					for j := 0; j < d; j++ {
						cen[(i-r0)*d+j] = x[i*d+j] - mean[j]
					}
				}
				sgemm.Pack(cen, r1-r0, d).Mul(s.low[r0*lowDims:r1*lowDims], lowDims, dt, lowDims, lowDims, sgemm.Epilogue{}, sgemm.Serial)
			})
		}
		// Without directions the coordinates stay 0: bounds of 0 prune
		// nothing, and the selection is still exact.
	}
	return s
}

func (s *selector) row(i int) []float32 { return s.x[i*s.d : (i+1)*s.d] }

// start sets every point's distance to its mean distance to m random
// distinct points, as the reference does.
func (s *selector) start(rng *rand.Rand, m int) {
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
	// The free points in a few parts of contiguous indices, so that
	// sorting them and the first batches' scans of them use every core.
	parts := min(4*runtime.GOMAXPROCS(0), s.n)
	s.free = make([]group, parts)
	parallel.For(parts, parts, 1, func(_, p int) {
		lo, hi := p*s.n/parts, (p+1)*s.n/parts
		members := make([]int32, hi-lo)
		for i := range members {
			members[i] = int32(lo + i)
		}
		s.free[p] = group{members: members, r: s.dist[lo:hi], vecs: s.x[lo*s.d : hi*s.d], low: s.low[lo*lowDims : hi*lowDims]}
		s.free[p].sort(s.d)
	})
	s.moved = make([][]moved, runtime.GOMAXPROCS(0))
	s.pend = newPending(s.n, s.d)
	s.scratch = make([]scratch, len(s.moved))
	for w := range s.scratch {
		s.scratch[w] = scratch{js: make([]int32, 0, batch), half: make([]float32, 0, batch), thr: make([]float32, chunk*vec.Block), want: make([]uint64, chunk*vec.Block)}
	}
}

// forItems runs f(worker, 0..n-1) over the selector's workers.
func (s *selector) forItems(n int, f func(w, i int)) { parallelFor(len(s.moved), n, f) }

// dropMarked finishes a scan that marked left members as gone (the last
// of them appended to out): marks at the end are trimmed, so the last
// entry is the farthest member, and the group is compacted once half of
// it is marks. A member that leaves is only marked: moving the others up
// would copy far more than the scan reads.
func (g *group) dropMarked(left, d int, out []moved) []moved {
	if left == 0 {
		return out
	}
	g.dead += left
	n := len(g.r)
	for n > 0 && g.members[n-1] < 0 {
		n--
		g.dead--
	}
	g.members, g.r = g.members[:n], g.r[:n]
	if g.dead > 32 && 2*g.dead > n {
		// Copy the moved members' vectors out before compacting over them.
		for k := len(out) - left; k < len(out); k++ {
			out[k].vec = append([]float32(nil), out[k].vec...)
		}
		g.compact(d)
	}
	return out
}

// compact drops the marked members, keeping the order.
func (g *group) compact(d int) {
	kept := 0
	for i, m := range g.members {
		if m < 0 {
			continue
		}
		if kept != i {
			g.members[kept], g.r[kept] = m, g.r[i]
			copy(g.vecs[kept*d:(kept+1)*d], g.vecs[i*d:(i+1)*d])
			v := lowAt(g.low, i) // i > kept: its block is not yet overwritten at i
			setLow(g.low, kept, v[:])
		}
		kept++
	}
	// Fresh storage: give back what a shrunken group no longer needs.
	g.members = append([]int32(nil), g.members[:kept]...)
	g.r = append([]float32(nil), g.r[:kept]...)
	g.vecs = append([]float32(nil), g.vecs[:kept*d]...)
	g.low = append([]float32(nil), g.low[:blocked(kept)]...)
	g.dead = 0
}

// sort orders the free points by memberOrder into fresh storage, their
// coordinates read from g.low as rows of lowDims values and written as
// blocks.
func (g *group) sort(d int) {
	order := make([]int, len(g.members))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return memberOrder(g.r[a], g.r[b], g.members[a], g.members[b]) })
	members, r := make([]int32, len(order)), make([]float32, len(order))
	vecs, low := make([]float32, len(order)*d), make([]float32, blocked(len(order)))
	for j, i := range order {
		members[j], r[j] = g.members[i], g.r[i]
		copy(vecs[j*d:(j+1)*d], g.vecs[i*d:(i+1)*d])
		setLow(low, j, g.low[i*lowDims:(i+1)*lowDims])
	}
	g.members, g.r, g.vecs, g.low = members, r, vecs, low
}

// memberOrder is how a group keeps its members: by r, ascending, and among
// equals the lowest index last, where the farthest-point search takes it
// first, as a plain greedy loop would.
func memberOrder(ra, rb float32, ia, ib int32) int {
	if c := cmp.Compare(ra, rb); c != 0 {
		return c
	}
	return cmp.Compare(ib, ia)
}

func sqdist(a, b []float32) float32 { return vec.SqDist(a, b) }

// inRanges runs f over [0, n) cut into one contiguous range per core.
func inRanges(n int, f func(lo, hi int)) {
	w := max(min(runtime.GOMAXPROCS(0), n), 1)
	parallel.For(w, w, 1, func(_, i int) { f(i*n/w, (i+1)*n/w) })
}

// parallelItems runs f(0..n-1) over the cores, claiming items in chunks.
func parallelItems(n int, f func(int)) {
	parallelFor(runtime.GOMAXPROCS(0), n, func(_, i int) { f(i) })
}

// parallelFor runs f(w, 0..n-1) on up to workers goroutines, which claim
// items in chunks; w numbers the goroutine, for per-worker buffers.
func parallelFor(workers, n int, f func(w, i int)) { parallel.For(workers, n, 32, f) }
