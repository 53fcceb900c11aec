package backbone_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/internal/shared"
)

type timed struct {
	compute.Backend
	t map[string]time.Duration
	f map[string]float64
}

func (b *timed) Conv(x compute.Tensor, w compute.Weights, act compute.Activation) compute.Tensor {
	t0 := time.Now()
	r := b.Backend.Conv(x, w, act)
	s := w.Spec()
	k := fmt.Sprintf("conv %dx%d s%d g%d", s.KH, s.KW, s.StrideH, s.Group)
	if s.Group > 1 {
		k = "conv depthwise"
	}
	b.t[k] += time.Since(t0)
	sh := r.Shape()
	in := x.Shape()
	b.f[k] += 2 * float64(s.OutC) * float64(in[1]/s.Group*s.KH*s.KW) * float64(sh[2]*sh[3])
	return r
}
func (b *timed) Affine(x compute.Tensor, scale, shift []float32, act compute.Activation) compute.Tensor {
	t0 := time.Now()
	r := b.Backend.Affine(x, scale, shift, act)
	b.t["affine"] += time.Since(t0)
	return r
}
func (b *timed) Activate(x compute.Tensor, act compute.Activation) compute.Tensor {
	t0 := time.Now()
	r := b.Backend.Activate(x, act)
	b.t["activate"] += time.Since(t0)
	return r
}
func (b *timed) Binary(op compute.BinaryOp, x, y compute.Tensor, out []int) compute.Tensor {
	t0 := time.Now()
	r := b.Backend.Binary(op, x, y, out)
	b.t["binary"] += time.Since(t0)
	return r
}
func (b *timed) Pool(x compute.Tensor, s compute.PoolSpec) compute.Tensor {
	t0 := time.Now()
	r := b.Backend.Pool(x, s)
	b.t["pool"] += time.Since(t0)
	return r
}

func TestOpTimes(t *testing.T) {
	be := &timed{Backend: cpu.New(0), t: map[string]time.Duration{}, f: map[string]float64{}}
	m, err := backbone.LoadFile(shared.Weights(t, "resnet50v2-layer3.onnx"), backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.NewExecutor(be)
	if err != nil {
		t.Fatal(err)
	}
	c, h, w := m.InputShape()
	x := make([]float32, c*h*w)
	e.Run(x, []int{1, c, h, w})
	be.t = map[string]time.Duration{}
	be.f = map[string]float64{}
	t0 := time.Now()
	for i := 0; i < 5; i++ {
		e.Run(x, []int{1, c, h, w})
	}
	total := time.Since(t0) / 5
	var keys []string
	for k := range be.t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sum time.Duration
	for _, k := range keys {
		t.Logf("%-22s %6.1f ms %6.2f GFLOP %5.1f GFLOP/s", k, float64(be.t[k]/5)/1e6, be.f[k]/5e9, be.f[k]/be.t[k].Seconds()/1e9)
		sum += be.t[k] / 5
	}
	t.Logf("total %.1f ms, ops %.1f ms", float64(total)/1e6, float64(sum)/1e6)
}
