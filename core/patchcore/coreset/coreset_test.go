package coreset

import (
	"math"
	"math/rand/v2"
	"testing"
)

// greedy is the reference loop without pruning: distances from every
// point to each new centre, minimum kept.
func greedy(x []float32, n, d int, cfg Config) []int {
	k := max(int(float64(n)*cfg.Fraction), 1)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7e55e7a))
	p, pd := project(x, n, d, cfg.ProjectTo, rng)
	s := newSelector(p, n, pd)
	s.start(rng, cfg.Starts)
	dist := append([]float32(nil), s.dist...)
	var out []int
	for len(out) < k {
		best := 0
		for i := range dist {
			if dist[i] > dist[best] {
				best = i
			}
		}
		out = append(out, best)
		for i := range dist {
			dist[i] = min(dist[i], float32(math.Sqrt(float64(sqdist(s.row(i), s.row(best))))))
		}
	}
	return out
}

func TestSelectMatchesPlainGreedy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	n, d := 3000, 40
	x := make([]float32, n*d)
	// Clustered data, where pruning matters.
	for i := 0; i < n; i++ {
		c := float32(i % 7)
		for j := 0; j < d; j++ {
			x[i*d+j] = c*3 + float32(r.NormFloat64())
		}
	}
	cfg := Config{Fraction: 0.1, ProjectTo: 16, Starts: 10, Seed: 3}
	got, err := Select(x, n, d, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := greedy(x, n, d, cfg)
	if len(got) != len(want) {
		t.Fatalf("%d picks, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pick %d: %d, plain greedy picks %d", i, got[i], want[i])
		}
	}
}

// TestMatchesPlainGreedyAndLegacy uses data that defeats group pruning
// (Gaussian noise in 64 dimensions) and data it suits (tight clusters):
// the selector must pick what plain greedy picks, and what the previous
// selector picked.
func TestMatchesPlainGreedyAndLegacy(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	n, d := 4000, 64
	noise := make([]float32, n*d)
	for i := range noise {
		noise[i] = float32(r.NormFloat64())
	}
	clustered := make([]float32, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			clustered[i*d+j] = float32(i%5)*40 + float32(r.NormFloat64())*0.1
		}
	}
	cfg := Config{Fraction: 0.1, ProjectTo: 32, Starts: 10, Seed: 5}
	for _, c := range []struct {
		name string
		x    []float32
	}{{"noise", noise}, {"clustered", clustered}} {
		got, err := Select(c.x, n, d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := greedy(c.x, n, d, cfg)
		legacy := legacySelect(c.x, n, d, cfg)
		for i := range want {
			if got[i] != want[i] || legacy[i] != want[i] {
				t.Fatalf("%s: pick %d: %d, plain greedy picks %d, the previous selector %d", c.name, i, got[i], want[i], legacy[i])
			}
		}
	}
}

func TestSelectSmallByHand(t *testing.T) {
	// Points on a line at 0, 1, 2, 10, 11 (1-D, no projection).
	x := []float32{0, 1, 2, 10, 11}
	got, err := Select(x, 5, 1, Config{Fraction: 0.4, ProjectTo: 0, Starts: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// With all five points as starts, mean distances are 4.8, 4.2, 3.8,
	// 5.6, 6.2: the first pick is 11 (index 4); then 0 (index 0) keeps 4.8
	// while 10 drops to 1.
	if len(got) != 2 || got[0] != 4 || got[1] != 0 {
		t.Errorf("picks %v, want [4 0]", got)
	}
}

func TestSelectErrors(t *testing.T) {
	if _, err := Select(nil, 0, 4, Default(), nil); err == nil {
		t.Error("empty input: no error")
	}
	if _, err := Select(make([]float32, 8), 2, 4, Config{Fraction: 0}, nil); err == nil {
		t.Error("fraction 0: no error")
	}
	all, err := Select(make([]float32, 12), 3, 4, Config{Fraction: 1}, nil)
	if err != nil || len(all) != 3 {
		t.Errorf("fraction 1 keeps %v, %v", all, err)
	}
}
