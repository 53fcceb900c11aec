package parallel

import (
	"strings"
	"sync/atomic"
	"testing"
)

// TestTeamRunsEachTaskOnce alternates For and ForOwned on one team, so
// that helpers meet loops of both kinds one after another, and checks that
// every task of every loop runs exactly once.
func TestTeamRunsEachTaskOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 4} {
		p := NewTeam(workers)
		for round, n := range []int{0, 1, 2, 3, 5, 7, 64, 1000, 2, 9, 100} {
			for _, owned := range []bool{false, true} {
				seen := make([]atomic.Int32, n)
				f := func(i int) { seen[i].Add(1) }
				if owned {
					p.ForOwned(n, f)
				} else {
					p.For(n, f)
				}
				for i := range seen {
					if got := seen[i].Load(); got != 1 {
						t.Fatalf("workers %d, round %d, n %d, owned %v: task %d ran %d times", workers, round, n, owned, i, got)
					}
				}
			}
		}
		p.Close()
	}
}

func TestForOwnedCarriesPanics(t *testing.T) {
	p := NewTeam(2)
	defer p.Close()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "task 5") {
			t.Errorf("recovered %v, want task 5's panic", r)
		}
	}()
	p.ForOwned(10, func(i int) {
		if i == 5 {
			panic("task 5")
		}
	})
}
