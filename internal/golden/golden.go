// Package golden gives tests the shared backbones, their golden input
// batch and ONNX Runtime's outputs for it (../shared/weights/golden).
package golden

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/internal/shared"
)

// Net is a shared model: its golden folder and its file. Shipped nets
// have their golden outputs in this package's testdata (copies of the
// shared ones, checked equal when ../shared is there), so they are tested
// on a fresh clone.
type Net struct {
	Dir, File string
	Shipped   bool
}

// Nets are both shared models, the larger first.
var Nets = []Net{
	{Dir: "resnet50v2", File: "resnet50v2-layer3.onnx"},
	{Dir: "mobilenetv2", File: "mobilenetv2-layer3.onnx", Shipped: true},
}

// MobileNetV2 is the small one, for tests that need any real model.
var MobileNetV2 = Nets[1]

// Tolerance is the largest relative L2 error a backend may show.
const Tolerance = 1e-4

// Model loads the net's layers as the shared file names them.
func Model(tb testing.TB, n Net) *backbone.Model {
	tb.Helper()
	m, err := backbone.LoadFile(shared.Weights(tb, n.File), backbone.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Input is the golden input batch: two prepared images, N x 3 x 224 x 224.
func Input(tb testing.TB, n Net) ([]float32, []int) {
	tb.Helper()
	x, shape, err := npy.ReadFile(File(tb, n, "input.npy"))
	if err != nil {
		tb.Fatal(err)
	}
	return x, shape
}

// File is the path of one of the net's golden files: in testdata for a
// shipped net, in the shared folder otherwise.
func File(tb testing.TB, n Net, name string) string {
	tb.Helper()
	if n.Shipped {
		return filepath.Join(shared.Repo(), "internal", "golden", "testdata", n.Dir, name)
	}
	return shared.Path(tb, "weights", "golden", n.Dir, name)
}

// OnCPU is the net, its golden input and the CPU backend's features for
// it: what work moved to the CPU mid-run must give, bit for bit.
func OnCPU(tb testing.TB, n Net) (*backbone.Model, []float32, []int, []backbone.Feature) {
	tb.Helper()
	m := Model(tb, n)
	x, shape := Input(tb, n)
	e, err := m.NewExecutor(cpu.New(0))
	if err != nil {
		tb.Fatal(err)
	}
	feats, err := e.Run(x, shape)
	if err != nil {
		tb.Fatal(err)
	}
	return m, x, shape, feats
}

// RelL2 is ||got-want|| / ||want||.
func RelL2(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

// Check compares features computed on backend (a name for the log) with
// ONNX Runtime's, failing the test where a shape differs or the relative
// L2 error passes Tolerance.
func Check(tb testing.TB, n Net, feats []backbone.Feature, backend string) {
	tb.Helper()
	for _, f := range feats {
		want, shape, err := npy.ReadFile(File(tb, n, f.Name+".npy"))
		if err != nil {
			tb.Fatal(err)
		}
		if fmt.Sprint(f.Shape) != fmt.Sprint(shape) {
			tb.Fatalf("%s %s: shape %v, want %v", n.Dir, f.Name, f.Shape, shape)
		}
		e := RelL2(f.Data, want)
		tb.Logf("%s %s %v: relative L2 error %.2e on %s", n.Dir, f.Name, f.Shape, e, backend)
		if e > Tolerance {
			tb.Errorf("%s %s: relative L2 error %.2e on %s, want < %g", n.Dir, f.Name, e, backend, Tolerance)
		}
	}
}
