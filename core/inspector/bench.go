package inspector

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tessera/tessera/core/backbone"
)

// BackboneTiming is the time of a forward pass per image, in
// milliseconds.
type BackboneTiming struct {
	Backend           string
	Runs, Batch       int
	MedianMS          float64
	P10MS, P90MS      float64
	GFLOPs, GFLOPPerS float64
}

// BenchBackbone times runs forward passes of batch images on a fixed
// input after three warm-up passes; batch 1 is the figure set against
// ONNX Runtime on the same model. A device that fails during the runs is
// an error, not a figure from another backend.
func (in *Inspector) BenchBackbone(runs, batch int) (BackboneTiming, error) {
	runs, batch = max(runs, 1), max(batch, 1)
	e := in.x.Exec
	m := e.Model()
	gen := in.dev.Generation()
	ms, err := TimeForward(e, batch, 3, runs)
	if err != nil {
		return BackboneTiming{}, err
	}
	if in.dev.Generation() != gen {
		return BackboneTiming{}, fmt.Errorf("inspector: the device failed during the benchmark and the model moved to %s", in.Backend())
	}
	med := Median(ms)
	return BackboneTiming{
		Backend: in.Backend(), Runs: runs, Batch: batch,
		MedianMS: med, P10MS: ms[len(ms)/10], P90MS: ms[len(ms)*9/10],
		GFLOPs: m.FLOPs() / 1e9, GFLOPPerS: m.FLOPs() / 1e9 / (med / 1e3),
	}, nil
}

// TimeForward times e's forward pass of batch images of a fixed input,
// warm times untimed and then runs times, and returns the milliseconds per
// image of the timed runs, sorted (the features are read back each time,
// so a GPU has finished).
func TimeForward(e *backbone.Executor, batch, warm, runs int) ([]float64, error) {
	c, h, w := e.Model().InputShape()
	x := make([]float32, batch*c*h*w)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = rng.Float32()*4 - 2
	}
	shape := []int{batch, c, h, w}
	for range warm {
		if _, err := e.Run(x, shape); err != nil {
			return nil, err
		}
	}
	ms := make([]float64, runs)
	for i := range ms {
		t0 := time.Now()
		if _, err := e.Run(x, shape); err != nil {
			return nil, err
		}
		ms[i] = time.Since(t0).Seconds() * 1e3 / float64(batch)
	}
	slices.Sort(ms)
	return ms, nil
}

// Median is the middle of sorted values (the mean of the middle two for
// an even count).
func Median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
