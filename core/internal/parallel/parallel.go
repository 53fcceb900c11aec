// Package parallel runs the engine's loops over goroutines, claiming
// items in chunks and carrying a panic back to the caller (see package
// panics): For starts goroutines for one loop (the pipeline's long
// loops: search, coreset, embedding); a Team keeps its helpers between
// loops (the CPU backend's operators, microseconds apart).
package parallel

import (
	"sync"
	"sync/atomic"

	"github.com/tessera/tessera/core/internal/panics"
)

// For runs f(w, i) for i in [0, n) on up to workers goroutines, w
// numbering the goroutine (for per-worker buffers); each claims chunk
// items at a time. With one worker, or one chunk, it runs on the caller.
// A panic in any call panics the caller once all have returned.
func For(workers, n, chunk int, f func(w, i int)) {
	chunk = max(chunk, 1)
	w := min(workers, (n+chunk-1)/chunk)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var caught panics.Catcher
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer caught.Guard()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					f(k, i)
				}
			}
		}()
	}
	wg.Wait()
	caught.Raise()
}
