package cpu

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestNearestMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	// More bank rows than one chunk, more queries than one block, and a
	// dimension that is not a multiple of anything.
	n, d, nq := 700, 37, 1100
	bankV, queries := randSlice(r, n*d), randSlice(r, nq*d)
	copy(queries[5*d:6*d], bankV[17*d:18*d]) // an exact match: distance 0
	b := New(2)
	defer b.Close()
	bk := b.PrepareIndex(bankV, n, d)
	for _, k := range []int{1, 3} {
		got, err := b.Nearest(bk, queries, nq, k)
		if err != nil {
			t.Fatal(err)
		}
		for q := 0; q < nq; q++ {
			all := make([]float64, n)
			for i := 0; i < n; i++ {
				var s float64
				for j := 0; j < d; j++ {
					x := float64(queries[q*d+j] - bankV[i*d+j])
					s += x * x
				}
				all[i] = s
			}
			sort.Float64s(all)
			for j := 0; j < k; j++ {
				if math.Abs(float64(got[q*k+j])-all[j]) > 1e-4*(1+all[j]) {
					t.Fatalf("k=%d query %d neighbour %d: %g, want %g", k, q, j, got[q*k+j], all[j])
				}
			}
		}
		if got[5*k] > 1e-4 {
			t.Errorf("exact match scored %g", got[5*k])
		}
	}
	if _, err := b.Nearest(bk, queries, nq, n+1); err == nil {
		t.Error("k larger than the bank: no error")
	}
	if _, err := b.Nearest(bk, queries[:10], nq, 1); err == nil {
		t.Error("short queries: no error")
	}
}
