// Package sgemm multiplies float32 matrices with a packed, cache-blocked
// kernel: the left operand (convolution weights) is packed once and reused,
// the right operand (activations) is read in place or packed per call, and
// the work is split into tiles that run on all cores.
//
// On amd64 with AVX2 and FMA the inner 6x16 block is an assembly kernel;
// under js/wasm it is the SIMD module of package wasmsimd when the host
// bound it; elsewhere a portable Go kernel with the same packed layout runs.
package sgemm

import (
	"github.com/tessera/tessera/core/compute/cpu/vec"
	"github.com/tessera/tessera/core/internal/hugepage"
	"github.com/tessera/tessera/core/internal/parallel"
	"math"
	"sync"
)

const (
	mr = 6   // rows of C per micro-kernel call
	nr = 16  // columns of C per micro-kernel call
	kc = 256 // depth of one pass, so an A and a B panel stay in L1
	mc = 72  // rows of C per task (multiple of mr)
	nc = 128 // columns of C per task (multiple of nr)
)

// twelveRows lets the wide kernel take twelve rows of C a call; a
// variable so tests can set it against the six-row calls.
var twelveRows = true

// Kernel names the micro-kernel this process runs: "avx2+fma", "wasm
// simd128", "wasm relaxed simd" or "go".
func Kernel() string { return kernelName() }

// Packed is an M x K row-major matrix repacked into panels of mr rows,
// each panel stored k-major (mr values per k), zero-padded to a whole panel.
type Packed struct {
	M, K int
	data []float32
}

// Pack packs the row-major M x K matrix a (row stride K).
func Pack(a []float32, m, k int) *Packed {
	panels := (m + mr - 1) / mr
	p := &Packed{M: m, K: k, data: hugepage.Floats(panels * mr * k)}
	for ip := 0; ip < panels; ip++ {
		dst := p.data[ip*mr*k : (ip+1)*mr*k]
		for r := 0; r < mr; r++ {
			row := ip*mr + r
			if row >= m {
				break
			}
			src := a[row*k : row*k+k]
			for kk, v := range src {
				dst[kk*mr+r] = v
			}
		}
	}
	return p
}

// Rows is rows [i0, i1) of a as a packed matrix of its own, sharing a's
// memory; i0 is a multiple of 6, the rows of a panel.
func (a *Packed) Rows(i0, i1 int) *Packed {
	if i0%mr != 0 || i0 < 0 || i1 > a.M || i0 > i1 {
		panic("sgemm: rows out of range or not on a panel boundary")
	}
	return &Packed{M: i1 - i0, K: a.K, data: a.data[i0*a.K : (i1+mr-1)/mr*mr*a.K]}
}

// Epilogue is applied to every element of C once its sum is complete:
// c = clamp(c + Bias[row], Min, Max) when Clamp is set, c + Bias[row] otherwise.
// A nil Bias adds nothing. With Accumulate the sum starts from C's values
// instead of zero: a residual connection added where C is written.
type Epilogue struct {
	Bias       []float32
	Clamp      bool
	Min, Max   float32
	Accumulate bool
}

// Parallel runs f(0), ..., f(n-1), possibly concurrently, and returns
// when all have returned.
type Parallel interface {
	For(n int, f func(int))
	Workers() int
}

// Mul sets C = A x B (then applies ep), where B is K x n row-major with
// row stride ldb, and C is M x n row-major with row stride ldc.
func (a *Packed) Mul(c []float32, ldc int, b []float32, ldb, n int, ep Epilogue, par Parallel) {
	if a.M == 0 || n == 0 {
		return
	}
	src := bSource{b: b, ldb: ldb, k: a.K, n: n}
	if packWhole(a.K, ldb) {
		src.packed = packB(b, ldb, a.K, n, 0, par)
		defer putBuf(src.packed)
	} else if n%nr != 0 {
		// Reading B in place: only the last, partial panel is packed,
		// zero-padded so the kernel can read whole panels.
		src.tail = packB(b, ldb, a.K, n, n/nr*nr, Serial)
		defer putBuf(src.tail)
	}
	tm, tn := tileSize(a.M, n, par.Workers())
	a.tiles(c, ldc, &src, n, tm, tn, ep, par)
}

// Owner is a Parallel that can also offer each task first to a worker
// fixed by its index (parallel.Team.ForOwned).
type Owner interface {
	Parallel
	ForOwned(n int, f func(int))
}

// tiles computes C in tasks of tm x tn, on par, column block by column
// block: where par is an Owner, the same worker takes the same columns
// (a layer's output positions) in every product first, so that it reads
// for the next layer what it wrote for this one.
func (a *Packed) tiles(c []float32, ldc int, src *bSource, n, tm, tn int, ep Epilogue, par Parallel) {
	mTiles := (a.M + tm - 1) / tm
	nTiles := (n + tn - 1) / tn
	run := par.For
	if o, ok := par.(Owner); ok {
		run = o.ForOwned
	}
	run(mTiles*nTiles, func(t int) {
		i0 := (t % mTiles) * tm
		j0 := (t / mTiles) * tn
		a.tile(c, ldc, src, i0, min(i0+tm, a.M), j0, min(j0+tn, n), ep)
	})
}

// Shifted describes a B that is read in place from shifted copies of one
// buffer: B's rows come in len(Offsets) blocks of Rows rows, block t
// starting at b[Offsets[t]] and its rows Stride apart. A stride-1 or
// phase-split convolution input is such a B: each filter tap is a block
// of the input channels' planes, shifted by the tap's offset, so no
// im2col copy is needed.
type Shifted struct {
	Offsets      []int
	Rows, Stride int
}

// Panels makes B's panels on demand, for a B that exists nowhere whole
// (a convolution's receptive fields): Panel writes rows [p0, p0+kl) of
// columns [j, j+16) k-major, 16 values a row, zero past B's last column.
type Panels interface {
	Panel(dst []float32, j, p0, kl int)
}

// MulPanels sets C = A x B (then applies ep), where src makes B's K x n
// panels; C is M x n with row stride ldc. Each task makes its panels once
// per depth pass, into a buffer that stays in L1, and runs all its rows
// of A over them, so B costs no pass over memory; A's rows are split
// between tasks only when they are many.
func (a *Packed) MulPanels(c []float32, ldc int, src Panels, n int, ep Epilogue, par Parallel) {
	if a.M == 0 || n == 0 {
		return
	}
	bs := bSource{k: a.K, n: n, build: src}
	tm, tn := tileSize(a.M, n, par.Workers())
	a.tiles(c, ldc, &bs, n, tm, tn, ep, par)
}

// PanelRows is m rounded up to whole panels of rows: the rows MulShifted's
// C must have.
func PanelRows(m int) int { return (m + mr - 1) / mr * mr }

// MulShifted sets C = A x B (then applies ep), where B is the K x n
// matrix sh describes in b (K = len(sh.Offsets)*sh.Rows) and n is a
// multiple of 16; C has PanelRows(M) rows with row stride ldc, and the
// rows past M are left with whatever the padding computes.
func (a *Packed) MulShifted(c []float32, ldc int, b []float32, sh Shifted, n int, ep Epilogue, par Parallel) {
	if len(sh.Offsets)*sh.Rows != a.K || n%nr != 0 || sh.Rows <= 0 {
		panic("sgemm: shifted B does not match A or n is not a multiple of 16")
	}
	if len(c) < (PanelRows(a.M)-1)*ldc+n {
		panic("sgemm: C has no room for whole row panels")
	}
	if a.M == 0 || n == 0 {
		return
	}
	for _, off := range sh.Offsets {
		if off < 0 || off+(sh.Rows-1)*sh.Stride+n > len(b) {
			panic("sgemm: shifted B reaches outside its buffer")
		}
	}
	src := bSource{b: b, ldb: sh.Stride, k: a.K, n: n, offsets: sh.Offsets, rows: sh.Rows, wholeRows: true}
	tm, tn := tileSize(a.M, n, par.Workers())
	if sh.Rows <= 64 {
		// Short depth passes (nine of 64 rows for ResNet's first 3x3
		// layers) revisit each C tile once a pass: narrower tasks keep
		// the tile in L1 between passes (BenchmarkConv 64x56x56: 193-198
		// -> 238 GFLOP/s).
		tn = min(tn, 4*nr)
	}
	a.tiles(c, ldc, &src, n, tm, tn, ep, par)
}

// tileSize picks the rows and columns of C per task: mc x nc, shrunk for
// small products so that every worker gets several tasks and none waits
// long for the last one.
func tileSize(m, n, workers int) (tm, tn int) {
	tm, tn = mc, nc
	enough := 4 * workers
	for ((m+tm-1)/tm)*((n+tn-1)/tn) < enough {
		switch {
		case tn > 2*nr:
			tn /= 2
		case tm > 2*mr:
			tm = (tm/2 + mr - 1) / mr * mr
		default:
			return tm, tn
		}
	}
	return tm, tn
}

// packWhole reports whether B should be packed before multiplying. Packing
// costs a pass over B; it pays when B rows are so far apart in memory that
// the rows of one depth pass would collide in the cache (a stride that is
// a multiple of 2 KiB).
func packWhole(k, ldb int) bool {
	return k > kc && (ldb*4)%2048 == 0
}

// bSource hands out B panels of nr columns starting at depth p0: from the
// packed copy, from B itself, from the packed last partial panel, or from
// B's shifted blocks.
type bSource struct {
	b            []float32
	ldb, k, n    int
	packed, tail *[]float32
	offsets      []int // Shifted.Offsets, nil when B is not shifted
	rows         int   // Shifted.Rows
	wholeRows    bool  // C has PanelRows(M) rows
	build        Panels
}

// passEnd is where the depth pass starting at p0 ends: kc on, or at the
// end of a shifted block, whose rows continue elsewhere.
func (s *bSource) passEnd(p0 int) int {
	end := min(p0+kc, s.k)
	if s.offsets != nil {
		end = min(end, (p0/s.rows+1)*s.rows)
	}
	return end
}

func (s *bSource) panel(j, p0 int) ([]float32, int) {
	switch {
	case s.offsets != nil:
		return s.b[s.offsets[p0/s.rows]+(p0%s.rows)*s.ldb+j:], s.ldb
	case s.packed != nil:
		return (*s.packed)[(j/nr)*nr*s.k+p0*nr:], nr
	case j+nr > s.n:
		return (*s.tail)[p0*nr:], nr
	}
	return s.b[p0*s.ldb+j:], s.ldb
}

// finish is the epilogue for one micro-tile: bias for its mr rows and
// the clamp bounds (+-Inf when the epilogue does not clamp).
type finish struct {
	bias   []float32
	lo, hi float32
}

// kernelArgs is how the assembly and wasm kernels take the epilogue: flag
// bit 1 adds C, bit 2 adds bias[row] and clamps to [lo, hi]. fin may be nil.
func (fin *finish) kernelArgs(accumulate bool) (flags int, bias *float32, lo, hi float32) {
	if accumulate {
		flags |= 1
	}
	if fin != nil {
		_ = fin.bias[mr-1]
		flags |= 2
		bias, lo, hi = &fin.bias[0], fin.lo, fin.hi
	}
	return flags, bias, lo, hi
}

// tile computes C[i0:i1, j0:j1].
func (a *Packed) tile(c []float32, ldc int, src *bSource, i0, i1, j0, j1 int, ep Epilogue) {
	k := a.K
	var tmp [mr * nr]float32
	var bias [mc]float32 // a call's biases, when ep.Bias lacks rows
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if ep.Clamp {
		lo, hi = ep.Min, ep.Max
	}
	wide := hasWide()
	var built [2]*[]float32 // the panels src.build made, two for a pair
	if src.build != nil {
		for i := range built {
			built[i] = getBuf(min(kc, k) * nr)
			defer putBuf(built[i])
		}
	}
	panel := func(slot, j, p0, kl int) ([]float32, int) {
		if src.build == nil {
			return src.panel(j, p0)
		}
		dst := (*built[slot])[:kl*nr]
		src.build.Panel(dst, j, p0, kl)
		return dst, nr
	}
	// One pass even when k is 0, so that C is still set and finished.
	for p0, p1, first := 0, 0, true; first || p0 < k; p0, first = p1, false {
		p1 = src.passEnd(p0)
		kl := p1 - p0
		lastPass := p1 == k
		acc := p0 > 0 || ep.Accumulate
		for j := j0; j < j1; {
			bpanel, ldb := panel(0, j, p0, kl)
			// With the wide kernel (AVX-512), 32 columns a call, in place
			// however few remain: it masks what C does not have; it reads
			// a second panel even when there is none to its right.
			cols := min(2*nr, j1-j)
			bnext, ldnext := bpanel, ldb
			if wide && cols > nr {
				bnext, ldnext = panel(1, j+nr, p0, kl)
			}
			for i, step := i0, 0; i < i1; i += step {
				apanel := a.data[(i/mr)*mr*k+p0*mr:]
				mw := min(mr, i1-i)
				// Twelve rows a call where two whole panels remain (or C
				// has the second one's padding rows).
				twelve := twelveRows && wide && (i1-i >= 2*mr || src.wholeRows && i1-i > mr)
				step = mr
				strips := 1 // of twelve rows, in one kernel call
				if twelve {
					strips = max(1, min((i1-i)/(2*mr), len(bias)/(2*mr)))
					mw, step = min(2*mr*strips, i1-i), 2*mr*strips
				}
				var fin *finish
				if lastPass && (ep.Bias != nil || ep.Clamp) {
					need := 2 * mr * strips // the biases the kernel reads
					if ep.Bias != nil && i+need <= len(ep.Bias) {
						fin = &finish{bias: ep.Bias[i : i+need], lo: lo, hi: hi}
					} else {
						clear(bias[:need])
						if ep.Bias != nil {
							copy(bias[:mw], ep.Bias[i:i+mw])
						}
						fin = &finish{bias: bias[:need], lo: lo, hi: hi}
					}
				}
				if twelve {
					kernelWide12(kl, apanel, apanel[mr*k:], strips, 2*mr*k, bpanel, ldb, bnext, ldnext, c[i*ldc+j:], ldc, acc, fin, cols)
					continue
				}
				if src.wholeRows {
					// C has rows to spare: the panel's padding rows are
					// computed (as zeros plus nothing) in place.
					mw = mr
				}
				if wide {
					kernelWide(kl, apanel, bpanel, ldb, bnext, ldnext, c[i*ldc+j:], ldc, acc, fin, mw, cols)
					continue
				}
				micro(kl, apanel, bpanel, ldb, c, ldc, i, j, mw, min(nr, j1-j), acc, fin, &tmp)
			}
			if wide {
				j += 2 * nr
			} else {
				j += nr
			}
		}
	}
}

// micro computes the mw x nw micro-tile of C at (i, j): whole tiles with
// the kernel in place; partial ones through tmp, where the kernel adds C
// (copied in) and finishes the whole tile, and the valid part is copied
// back. Elementwise epilogue loops here cost more than the tile under
// wasm, where Go's float min and max are slow.
func micro(kl int, apanel, bpanel []float32, ldb int, c []float32, ldc, i, j, mw, nw int, acc bool, fin *finish, tmp *[mr * nr]float32) {
	if mw == mr && nw == nr {
		kernel(kl, apanel, bpanel, ldb, c[i*ldc+j:], ldc, acc, fin)
		return
	}
	if nw == nr && kernelRows(kl, mw, apanel, bpanel, ldb, c[i*ldc+j:], ldc, acc, fin) {
		return
	}
	if acc {
		for r := 0; r < mw; r++ {
			copy(tmp[r*nr:r*nr+nw], c[(i+r)*ldc+j:(i+r)*ldc+j+nw])
		}
	}
	kernel(kl, apanel, bpanel, ldb, tmp[:], nr, acc, fin)
	for r := 0; r < mw; r++ {
		copy(c[(i+r)*ldc+j:(i+r)*ldc+j+nw], tmp[r*nr:r*nr+nw])
	}
}

// packB packs columns [from, n) of the K x n matrix b into panels of nr
// columns, each stored k-major and zero-padded to nr columns.
func packB(b []float32, ldb, k, n, from int, par Parallel) *[]float32 {
	panels := (n - from + nr - 1) / nr
	bp := getBuf(panels * nr * k)
	par.For(panels, func(jp int) {
		dst := (*bp)[jp*nr*k : (jp+1)*nr*k]
		j := from + jp*nr
		w := min(nr, n-j)
		if w == nr {
			// One call for the panel: a copy call a row of 16 values costs
			// more in calls than in moves.
			vec.CopyRows(dst, nr, b[j:], ldb, k, nr)
			return
		}
		for kk := 0; kk < k; kk++ {
			d := dst[kk*nr : kk*nr+nr]
			copy(d, b[kk*ldb+j:kk*ldb+j+w])
			clear(d[w:])
		}
	})
	return bp
}

// Serial runs every task on the calling goroutine.
var Serial Parallel = Goroutines(1)

// Goroutines is a Parallel that starts up to its value goroutines per
// call; the CPU backend uses a pool that keeps them on call instead.
type Goroutines int

func (g Goroutines) Workers() int { return max(int(g), 1) }

func (g Goroutines) For(n int, f func(int)) {
	parallel.For(int(g), n, 1, func(_, i int) { f(i) })
}

// bufs recycles packing buffers between calls; a forward pass packs dozens
// of multi-megabyte matrices.
var bufs sync.Pool

func getBuf(n int) *[]float32 {
	if p, ok := bufs.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := hugepage.Floats(n)
	return &s
}

func putBuf(p *[]float32) { bufs.Put(p) }

// kernelGo is the portable micro-kernel: C[0:mr, 0:nr] (+)= A panel x B
// panel, then the optional epilogue. It walks the tile two columns at a
// time so that the twelve running sums stay in registers, which is what
// makes it fast under WebAssembly.
func kernelGo(k int, a, b []float32, ldb int, c []float32, ldc int, accumulate bool, fin *finish) {
	a = a[: k*mr : k*mr]
	for j := 0; j < nr; j += 2 {
		var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 float32
		for p := 0; p < k; p++ {
			av := a[p*mr : p*mr+mr : p*mr+mr]
			bv := b[p*ldb+j : p*ldb+j+2 : p*ldb+j+2]
			b0, b1 := bv[0], bv[1]
			a0, a1, a2, a3, a4, a5 := av[0], av[1], av[2], av[3], av[4], av[5]
			c00 += a0 * b0
			c01 += a0 * b1
			c10 += a1 * b0
			c11 += a1 * b1
			c20 += a2 * b0
			c21 += a2 * b1
			c30 += a3 * b0
			c31 += a3 * b1
			c40 += a4 * b0
			c41 += a4 * b1
			c50 += a5 * b0
			c51 += a5 * b1
		}
		sums := [mr][2]float32{{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}}
		for r := 0; r < mr; r++ {
			dst := c[r*ldc+j : r*ldc+j+2 : r*ldc+j+2]
			for x := 0; x < 2; x++ {
				v := sums[r][x]
				if accumulate {
					v += dst[x]
				}
				if fin != nil {
					v = min(max(v+fin.bias[r], fin.lo), fin.hi)
				}
				dst[x] = v
			}
		}
	}
}
