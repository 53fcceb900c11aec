package parallel

import (
	"strings"
	"sync/atomic"
	"testing"
)

func TestForVisitsEachOnce(t *testing.T) {
	for _, tc := range []struct{ workers, n, chunk int }{{1, 10, 1}, {4, 1000, 32}, {3, 7, 2}, {8, 0, 4}, {2, 5, 100}} {
		seen := make([]atomic.Int32, tc.n)
		For(tc.workers, tc.n, tc.chunk, func(w, i int) {
			if w < 0 || w >= max(tc.workers, 1) {
				t.Errorf("worker %d of %d", w, tc.workers)
			}
			seen[i].Add(1)
		})
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("%+v: item %d run %d times", tc, i, seen[i].Load())
			}
		}
	}
}

func TestForCarriesPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "item 7") {
			t.Errorf("recovered %v, want item 7's panic", r)
		}
	}()
	For(4, 100, 1, func(_, i int) {
		if i == 7 {
			panic("item 7")
		}
	})
}
