package coreset_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tessera/tessera/core/patchcore/coreset"
	"github.com/tessera/tessera/internal/benchdata"
)

func TestExperiment(t *testing.T) {
	nn, _ := strconv.Atoi(os.Getenv("EXP_N"))
	if nn == 0 {
		t.Skip()
	}
	x, n, d := benchdata.Train(t, benchdata.Set{Category: "magnetic-tile", Model: "resnet50v2-layer3.onnx"})
	n = min(n, nn)
	x = x[:n*d]
	t0 := time.Now()
	got, _ := coreset.Select(x, n, d, coreset.Default(), nil)
	t.Logf("new: %v", time.Since(t0))
	if os.Getenv("EXP_LEGACY") != "" {
		t0 = time.Now()
		want := coreset.LegacySelect(x, n, d, coreset.Default())
		t.Logf("legacy: %v", time.Since(t0))
		diff := 0
		for i := range want {
			if got[i] != want[i] {
				var s float64
				for j := 0; j < d; j++ {
					v := float64(x[got[i]*d+j] - x[want[i]*d+j])
					s += v * v
				}
				if diff < 5 {
					t.Logf("pick %d differs: %d vs %d, distance between them %g", i, got[i], want[i], s)
				}
				diff++
			}
		}
		t.Logf("%d of %d picks differ", diff, len(want))
	}
}
