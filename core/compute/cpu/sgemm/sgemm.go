// Package sgemm multiplies float32 matrices with a packed, cache-blocked
// kernel: the left operand (convolution weights) is packed once and reused,
// the right operand (activations) is packed per call, and the work is split
// into tiles that run on all cores.
//
// On amd64 with AVX2 and FMA the inner 6x16 block is an assembly kernel;
// elsewhere a portable Go kernel with the same packed layout runs.
package sgemm

import (
	"runtime"
	"sync"
)

const (
	mr = 6   // rows of C per micro-kernel call
	nr = 16  // columns of C per micro-kernel call
	kc = 256 // depth of one pass, so an A and a B panel stay in L1
	mc = 72  // rows of C per task (multiple of mr)
	nc = 128 // columns of C per task (multiple of nr)
)

// Packed is an M x K row-major matrix repacked into panels of mr rows,
// each panel stored k-major (mr values per k), zero-padded to a whole panel.
type Packed struct {
	M, K int
	data []float32
}

// Pack packs the row-major M x K matrix a (row stride K).
func Pack(a []float32, m, k int) *Packed {
	panels := (m + mr - 1) / mr
	p := &Packed{M: m, K: k, data: make([]float32, panels*mr*k)}
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

// Epilogue is applied to every element of C once its sum is complete:
// c = clamp(c + Bias[row], Min, Max) when Clamp is set, c + Bias[row] otherwise.
// A nil Bias adds nothing.
type Epilogue struct {
	Bias     []float32
	Clamp    bool
	Min, Max float32
}

// Mul sets C = A x B (then applies ep), where B is K x n row-major with
// row stride ldb, and C is M x n row-major with row stride ldc.
// It uses up to workers goroutines (all cores when workers <= 0).
func (a *Packed) Mul(c []float32, ldc int, b []float32, ldb, n int, ep Epilogue, workers int) {
	if a.M == 0 || n == 0 {
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bp := packB(b, ldb, a.K, n, workers)
	defer putBuf(bp)
	mTiles := (a.M + mc - 1) / mc
	nTiles := (n + nc - 1) / nc
	// Prefer tall thin tiles when there are few columns so that both cores
	// have work on the small late layers.
	tiles := mTiles * nTiles
	run := func(t int) {
		i0 := (t % mTiles) * mc
		j0 := (t / mTiles) * nc
		a.tile(c, ldc, *bp, n, i0, min(i0+mc, a.M), j0, min(j0+nc, n), ep)
	}
	parallel(tiles, workers, run)
}

// tile computes C[i0:i1, j0:j1].
func (a *Packed) tile(c []float32, ldc int, bp []float32, n, i0, i1, j0, j1 int, ep Epilogue) {
	k := a.K
	var tmp [mr * nr]float32
	for p0 := 0; p0 < k; p0 += kc {
		kl := min(kc, k-p0)
		acc := p0 > 0
		for j := j0; j < j1; j += nr {
			bpanel := bp[(j/nr)*nr*k+p0*nr:]
			nw := min(nr, j1-j)
			for i := i0; i < i1; i += mr {
				apanel := a.data[(i/mr)*mr*k+p0*mr:]
				mw := min(mr, i1-i)
				if mw == mr && nw == nr {
					kernel(kl, apanel, bpanel, c[i*ldc+j:], ldc, acc)
					continue
				}
				kernel(kl, apanel, bpanel, tmp[:], nr, false)
				for r := 0; r < mw; r++ {
					dst := c[(i+r)*ldc+j : (i+r)*ldc+j+nw]
					src := tmp[r*nr : r*nr+nw]
					if acc {
						for x := range dst {
							dst[x] += src[x]
						}
					} else {
						copy(dst, src)
					}
				}
			}
		}
	}
	if k == 0 {
		for r := i0; r < i1; r++ {
			clear(c[r*ldc+j0 : r*ldc+j1])
		}
	}
	ep.apply(c, ldc, i0, i1, j0, j1)
}

func (ep Epilogue) apply(c []float32, ldc, i0, i1, j0, j1 int) {
	if ep.Bias == nil && !ep.Clamp {
		return
	}
	for r := i0; r < i1; r++ {
		var bias float32
		if ep.Bias != nil {
			bias = ep.Bias[r]
		}
		row := c[r*ldc+j0 : r*ldc+j1]
		if !ep.Clamp {
			for x := range row {
				row[x] += bias
			}
			continue
		}
		lo, hi := ep.Min, ep.Max
		for x, v := range row {
			v += bias
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			row[x] = v
		}
	}
}

// packB packs the K x n matrix b into panels of nr columns, each stored
// k-major and zero-padded to nr columns.
func packB(b []float32, ldb, k, n, workers int) *[]float32 {
	panels := (n + nr - 1) / nr
	bp := getBuf(panels * nr * k)
	parallel(panels, workers, func(jp int) {
		dst := (*bp)[jp*nr*k : (jp+1)*nr*k]
		j := jp * nr
		w := min(nr, n-j)
		if w == nr {
			for kk := 0; kk < k; kk++ {
				copy(dst[kk*nr:kk*nr+nr], b[kk*ldb+j:kk*ldb+j+nr])
			}
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

// parallel runs f(0..n-1) on up to workers goroutines.
func parallel(n, workers int, f func(int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				t := i
				i++
				next.Unlock()
				if t >= n {
					return
				}
				f(t)
			}
		}()
	}
	wg.Wait()
}

// bufs recycles packing buffers between calls; a forward pass packs dozens
// of multi-megabyte matrices.
var bufs sync.Pool

func getBuf(n int) *[]float32 {
	if p, ok := bufs.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

func putBuf(p *[]float32) { bufs.Put(p) }

// kernelGo is the portable micro-kernel: C[0:mr, 0:nr] (+)= A panel x B panel.
func kernelGo(k int, a, b, c []float32, ldc int, accumulate bool) {
	var acc [mr * nr]float32
	for p := 0; p < k; p++ {
		bv := b[p*nr : p*nr+nr : p*nr+nr]
		av := a[p*mr : p*mr+mr : p*mr+mr]
		for r := 0; r < mr; r++ {
			x := av[r]
			row := acc[r*nr : r*nr+nr : r*nr+nr]
			for j := range row {
				row[j] += x * bv[j]
			}
		}
	}
	for r := 0; r < mr; r++ {
		dst := c[r*ldc : r*ldc+nr]
		if accumulate {
			for j := range dst {
				dst[j] += acc[r*nr+j]
			}
		} else {
			copy(dst, acc[r*nr:r*nr+nr])
		}
	}
}
