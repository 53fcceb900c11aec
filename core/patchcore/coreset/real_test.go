package coreset_test

import (
	"os"
	"testing"

	"github.com/tessera/tessera/core/patchcore/coreset"
	"github.com/tessera/tessera/internal/benchdata"
)

// TestRealPicksMatchPlainGreedy: on real patch vectors (the shipped
// sample), the selector picks exactly what plain greedy picks (the lowest
// index among equal distances), and what the previous selector picked but
// where equal distances made it choose another of them.
func TestRealPicksMatchPlainGreedy(t *testing.T) {
	x, n, d := benchdata.Train(t, benchdata.Sample)
	cfg := coreset.Default()
	got, err := coreset.Select(x, n, d, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := coreset.Greedy(x, n, d, cfg)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pick %d of %d: %d, plain greedy picked %d", i, len(want), got[i], want[i])
		}
	}
	legacy := coreset.LegacySelect(x, n, d, cfg)
	differ := 0
	for i := range legacy {
		if legacy[i] != want[i] {
			differ++
		}
	}
	t.Logf("%d picks of %d real patch vectors match plain greedy; the previous selector broke ties otherwise in %d", len(got), n, differ)
	if differ > len(want)/50 {
		t.Errorf("the previous selector differs in %d of %d picks", differ, len(want))
	}
}

// TestSharedPicksMatchPlainGreedy is TestRealPicksMatchPlainGreedy on the
// shared bottle category with both models (163,856 points, 16,385 picks;
// plain greedy takes minutes): run with TESSERA_LONG_TESTS=1.
func TestSharedPicksMatchPlainGreedy(t *testing.T) {
	if os.Getenv("TESSERA_LONG_TESTS") == "" {
		t.Skip("minutes long: set TESSERA_LONG_TESTS=1")
	}
	for _, set := range benchSets[:2] {
		x, n, d := benchdata.Train(t, set)
		got, err := coreset.Select(x, n, d, coreset.Default(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := coreset.Greedy(x, n, d, coreset.Default())
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: pick %d of %d: %d, plain greedy picked %d", set, i, len(want), got[i], want[i])
			}
		}
		t.Logf("%s: all %d picks are plain greedy's", set, len(want))
	}
}

var benchSets = []benchdata.Set{
	{Category: "mvtec-ad-256/bottle", Model: "resnet50v2-layer3.onnx"},
	{Category: "mvtec-ad-256/bottle", Model: "mobilenetv2-layer3.onnx"},
	{Category: "magnetic-tile", Model: "resnet50v2-layer3.onnx"},
}

// BenchmarkSelect times the default coreset (10%) of real categories'
// training vectors: the previous selector ("legacy") and today's, in one
// run. Today's picks are plain greedy's (checked once on bottle with
// ResNet-50 v2: all 16,385 the same; the previous selector's differ from
// pick 3,396 on, where two distances tie).
func BenchmarkSelect(b *testing.B) {
	for _, set := range benchSets {
		var x []float32
		var n, d int
		var picks []int
		b.Run(set.String()+"/new", func(b *testing.B) {
			x, n, d = benchdata.Train(b, set)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if picks, err = coreset.Select(x, n, d, coreset.Default(), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "points")

		})
		b.Run(set.String()+"/legacy", func(b *testing.B) {
			x, n, d = benchdata.Train(b, set)
			b.ResetTimer()
			var old []int
			for i := 0; i < b.N; i++ {
				old = coreset.LegacySelect(x, n, d, coreset.Default())
			}
			// The previous selector broke ties among equal distances
			// otherwise (TestRealPicksMatchPlainGreedy); say where.
			for i := range old {
				if picks != nil && picks[i] != old[i] {
					b.Logf("from pick %d of %d on, the previous selector broke a tie otherwise", i, len(old))
					break
				}
			}
		})
	}
}
