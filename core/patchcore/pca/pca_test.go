package pca

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tessera/tessera/core/compute/cpu/sgemm"
)

// TestDirections: on data spread mostly along known axes, the directions
// are orthonormal and the first ones are those axes, largest first.
func TestDirections(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n, d, m := 3000, 40, 6
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			scale := 0.1
			if j < 3 {
				scale = float64(30 - 10*j) // axes 0, 1, 2: spreads 30, 20, 10
			}
			x[i*d+j] = float32(5 + scale*r.NormFloat64())
		}
	}
	mean := Mean(x, n, d)
	if math.Abs(float64(mean[7])-5) > 0.1 {
		t.Errorf("mean %g, want about 5", mean[7])
	}
	dirs, err := Directions(x, n, d, mean, m, sgemm.Goroutines(2))
	if err != nil {
		t.Fatal(err)
	}
	for a := 0; a < m; a++ {
		for b := 0; b <= a; b++ {
			var dot float64
			for j := 0; j < d; j++ {
				dot += float64(dirs[a*d+j]) * float64(dirs[b*d+j])
			}
			want := 0.0
			if a == b {
				want = 1
			}
			if math.Abs(dot-want) > 1e-5 {
				t.Fatalf("directions %d and %d: dot %g, want %g", a, b, dot, want)
			}
		}
	}
	for a := 0; a < 3; a++ {
		if c := math.Abs(float64(dirs[a*d+a])); c < 0.999 {
			t.Errorf("direction %d: |cos| with axis %d is %g", a, a, c)
		}
	}
}

// TestDirectionsDegenerate: a set with no spread still gets orthonormal
// directions (any are valid bounds), not NaNs.
func TestDirectionsDegenerate(t *testing.T) {
	n, d, m := 50, 8, 4
	x := make([]float32, n*d)
	for i := range x {
		x[i] = 3
	}
	dirs, err := Directions(x, n, d, Mean(x, n, d), m, sgemm.Serial)
	if err != nil {
		t.Fatal(err)
	}
	for a := 0; a < m; a++ {
		var norm float64
		for j := 0; j < d; j++ {
			v := float64(dirs[a*d+j])
			if math.IsNaN(v) {
				t.Fatal("NaN in a direction")
			}
			norm += v * v
		}
		if math.Abs(norm-1) > 1e-6 {
			t.Errorf("direction %d has norm %g", a, norm)
		}
	}
}
