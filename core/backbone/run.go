package backbone

import (
	"fmt"
	"github.com/tessera/tessera/core/internal/panics"
	"slices"
	"time"

	"github.com/tessera/tessera/core/compute"
)

// Executor runs a Model on a compute.Device; the model's weights are
// prepared for the device's backend when the Executor is made, and again
// after the device has moved to its fallback.
type Executor struct {
	m       *Model
	dev     *compute.Device
	gen     int // the device generation the weights were laid out for
	weights map[*step]compute.Weights
	consts  map[*step]map[int]compute.Tensor
	reads   map[string]int // how many steps read each tensor
}

// Feature is one extracted layer: an N x C x H x W tensor.
type Feature struct {
	Name  string
	Shape []int
	Data  []float32
}

// NewExecutor prepares m's weights on b, with no fallback.
func (m *Model) NewExecutor(b compute.Backend) (*Executor, error) {
	return m.NewExecutorOn(compute.Fixed(b))
}

// NewExecutorOn prepares m's weights on dev's backend.
func (m *Model) NewExecutorOn(dev *compute.Device) (*Executor, error) {
	e := &Executor{m: m, dev: dev, reads: map[string]int{}}
	for _, s := range m.steps {
		for _, in := range s.inputs {
			e.reads[in]++
		}
	}
	if err := e.prepare(); err != nil {
		return nil, err
	}
	return e, nil
}

// prepare lays the model's weights and constants out on the device's
// backend.
func (e *Executor) prepare() error {
	b := e.dev.Backend()
	weights, consts := map[*step]compute.Weights{}, map[*step]map[int]compute.Tensor{}
	for _, s := range e.m.steps {
		if s.op == "Conv" {
			weights[s] = b.PrepareConv(s.conv, s.weight, s.bias)
			if x := s.expand; x != nil {
				weights[x] = b.PrepareConv(x.conv, x.weight, x.bias)
			}
		}
		if len(s.consts) > 0 {
			consts[s] = map[int]compute.Tensor{}
			for i, t := range s.consts {
				shape := t.Shape
				if len(shape) == 0 {
					shape = []int{1}
				}
				consts[s][i] = b.Upload(shape, t.Float)
			}
		}
	}
	if err := b.Err(); err != nil {
		return fmt.Errorf("backbone: preparing weights on %s: %w", b.Name(), err)
	}
	e.weights, e.consts, e.gen = weights, consts, e.dev.Generation()
	return nil
}

// Backend returns the backend the executor runs on now.
func (e *Executor) Backend() compute.Backend { return e.dev.Backend() }

// Device returns the device the executor runs on.
func (e *Executor) Device() *compute.Device { return e.dev }

// Model returns the model the executor runs.
func (e *Executor) Model() *Model { return e.m }

// Run extracts the model's layers from a batch of preprocessed images,
// x being N x C x H x W row-major float32.
// A device failure moves the executor to its fallback, if it has one, and
// the batch runs again there.
func (e *Executor) Run(x []float32, shape []int) (_ []Feature, err error) {
	// An operator that panics (on a helper goroutine too) fails the pass.
	defer func() { panics.Error(recover(), "backbone", &err) }()
	if e.gen != e.dev.Generation() {
		// Another holder of the device (the search) saw it fail.
		if err := e.prepare(); err != nil {
			return nil, err
		}
	}
	feats, err := e.runInParts(x, shape)
	if err != nil && e.dev.Failover(err) == nil {
		if err := e.prepare(); err != nil {
			return nil, fmt.Errorf("%w (after moving off a failed device)", err)
		}
		return e.runInParts(x, shape)
	}
	return feats, err
}

// runInParts runs a batch in the parts the backend prefers
// (compute.PartBatcher), joining their features along the batch axis,
// when the model is separable (no step mixes the batch's images).
func (e *Executor) runInParts(x []float32, shape []int) ([]Feature, error) {
	pb, ok := e.dev.Backend().(compute.PartBatcher)
	if !ok || !e.m.separable || len(shape) != 4 || shape[0] <= pb.PartBatch() {
		return e.run(x, shape, nil)
	}
	part := pb.PartBatch()
	per := len(x) / shape[0]
	var all []Feature
	for i := 0; i < shape[0]; i += part {
		n := min(part, shape[0]-i)
		feats, err := e.run(x[i*per:(i+n)*per], []int{n, shape[1], shape[2], shape[3]}, nil)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = make([]Feature, len(feats))
			for j, f := range feats {
				all[j] = Feature{Name: f.Name, Shape: append([]int{shape[0]}, f.Shape[1:]...), Data: make([]float32, 0, shape[0]*len(f.Data)/n)}
			}
		}
		for j, f := range feats {
			all[j].Data = append(all[j].Data, f.Data...)
		}
	}
	return all, nil
}

// run is Run with an optional observer told each step's duration (the
// backend may queue work, so for a GPU the figure is the time to issue it).
func (e *Executor) run(x []float32, shape []int, observe func(*step, time.Duration)) ([]Feature, error) {
	m := e.m
	if len(shape) != 4 || shape[0] < 1 {
		return nil, fmt.Errorf("backbone: input shape %v, want N x %d x %d x %d", shape, m.channels, m.height, m.width)
	}
	if shape[1] != m.channels {
		return nil, fmt.Errorf("backbone: input has %d channels, the model expects %d", shape[1], m.channels)
	}
	if shape[2] != m.height || shape[3] != m.width {
		return nil, fmt.Errorf("backbone: input is %dx%d, the model was loaded for %dx%d", shape[2], shape[3], m.height, m.width)
	}
	if len(x) != compute.Size(shape) {
		return nil, fmt.Errorf("backbone: input has %d values, shape %v needs %d", len(x), shape, compute.Size(shape))
	}
	b := e.dev.Backend()
	live := map[string]compute.Tensor{m.input: b.Upload(shape, x)}
	left := make(map[string]int, len(e.reads))
	for k, v := range e.reads {
		left[k] = v
	}
	isLayer := map[string]bool{}
	for _, l := range m.layers {
		isLayer[l] = true
	}
	defer func() {
		for _, t := range live {
			b.Release(t)
		}
	}()
	for _, s := range m.steps {
		t0 := time.Now()
		// A tensor read last by this step may hold its output.
		last := func(t string) bool { return left[t] == 1 && !isLayer[t] }
		out, err := e.exec(s, live, last)
		if err != nil {
			return nil, err
		}
		if observe != nil {
			observe(s, time.Since(t0))
		}
		live[s.output] = out
		for _, in := range s.inputs {
			left[in]--
			if left[in] == 0 && !isLayer[in] {
				if live[in] != out {
					b.Release(live[in])
				}
				delete(live, in)
			}
		}
	}
	feats := make([]Feature, len(m.layers))
	for i, l := range m.layers {
		t, ok := live[l]
		if !ok {
			return nil, fmt.Errorf("backbone: layer %q was not computed", l)
		}
		data, err := b.Download(t)
		if err != nil {
			return nil, fmt.Errorf("backbone: reading layer %q from %s: %w", l, b.Name(), err)
		}
		feats[i] = Feature{Name: l, Shape: append([]int(nil), t.Shape()...), Data: data}
	}
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("backbone: %s: %w", b.Name(), err)
	}
	return feats, nil
}

func (e *Executor) exec(s *step, live map[string]compute.Tensor, last func(string) bool) (compute.Tensor, error) {
	b := e.dev.Backend()
	arg := func(i int) compute.Tensor {
		if c, ok := e.consts[s][i]; ok {
			return c
		}
		// Data inputs are listed without the constants between them.
		k := 0
		for j := 0; j < i; j++ {
			if _, ok := e.consts[s][j]; !ok {
				k++
			}
		}
		return live[s.inputs[k]]
	}
	switch s.op {
	case "Conv":
		x := live[s.inputs[0]]
		if p := s.expand; p != nil {
			if ec, ok := b.(compute.ExpandedConv); ok {
				return ec.ConvExpanded(x, e.weights[p], p.act, e.weights[s], s.act), nil
			}
			mid := b.Conv(x, e.weights[p], p.act)
			defer b.Release(mid)
			return b.Conv(mid, e.weights[s], s.act), nil
		}
		if !s.residual {
			return b.Conv(x, e.weights[s], s.act), nil
		}
		r := live[s.inputs[1]]
		if rc, ok := b.(compute.ResidualConv); ok {
			return rc.ConvAdd(x, e.weights[s], r, s.act, last(s.inputs[1])), nil
		}
		y := b.Conv(x, e.weights[s], compute.Identity)
		sum := b.Binary(compute.Add, y, r, y.Shape())
		b.Release(y)
		if !s.act.Clamp {
			return sum, nil
		}
		out := b.Activate(sum, s.act)
		b.Release(sum)
		return out, nil
	case "Affine":
		return b.Affine(live[s.inputs[0]], s.scale, s.shift, s.act), nil
	case "Activate":
		return b.Activate(live[s.inputs[0]], s.act), nil
	case "Sigmoid":
		return b.Sigmoid(live[s.inputs[0]]), nil
	case "MaxPool", "AveragePool":
		return b.Pool(live[s.inputs[0]], s.pool), nil
	case "GlobalAveragePool":
		return b.GlobalAvgPool(live[s.inputs[0]]), nil
	case "Add", "Mul":
		x, y := arg(0), arg(1)
		out, ok := broadcast(x.Shape(), y.Shape())
		if !ok {
			return nil, errNode(s.node, "shapes %v and %v do not broadcast", x.Shape(), y.Shape())
		}
		op := compute.Add
		if s.op == "Mul" {
			op = compute.Mul
		}
		return b.Binary(op, x, y, out), nil
	case "Concat":
		xs := make([]compute.Tensor, len(s.node.Inputs))
		for i := range xs {
			xs[i] = arg(i)
			a, b := xs[0].Shape(), xs[i].Shape()
			if len(a) != len(b) || s.axis >= len(a) || !slices.Equal(a[:s.axis], b[:s.axis]) || !slices.Equal(a[s.axis+1:], b[s.axis+1:]) {
				return nil, errNode(s.node, "shapes %v and %v cannot be concatenated on axis %d", a, b, s.axis)
			}
		}
		return b.Concat(s.axis, xs), nil
	case "Flatten", "Reshape":
		// Resolved against the actual input, whose batch may differ from
		// the batch of one the plan was made for.
		x := live[s.inputs[0]]
		var shape []int
		if s.op == "Flatten" {
			axis, _ := s.node.AttrInt("axis", 1)
			if axis < 0 {
				axis += len(x.Shape())
			}
			shape = []int{compute.Size(x.Shape()[:axis]), compute.Size(x.Shape()[axis:])}
		} else {
			var err error
			if shape, err = reshape(s.node, x.Shape(), s.target); err != nil {
				return nil, err
			}
		}
		return b.Reshape(x, shape), nil
	case "Gemm":
		return e.gemm(s, arg), nil
	}
	return nil, errNode(s.node, "operator has no executor")
}

// gemm computes alpha * A' * B' + beta * C from matrix products and
// element-wise operations.
func (e *Executor) gemm(s *step, arg func(int) compute.Tensor) compute.Tensor {
	b := e.dev.Backend()
	a, w := arg(0), arg(1)
	if s.gemm.transA {
		a = b.Transpose2D(a)
		defer b.Release(a)
	}
	if s.gemm.transB {
		w = b.Transpose2D(w)
		defer b.Release(w)
	}
	// scale returns t*f as a new tensor, leaving t alone.
	scale := func(t compute.Tensor, f float32) compute.Tensor {
		k := b.Upload([]int{1}, []float32{f})
		defer b.Release(k)
		return b.Binary(compute.Mul, t, k, t.Shape())
	}
	y := b.MatMul(a, w)
	if s.gemm.alpha != 1 {
		y2 := scale(y, s.gemm.alpha)
		b.Release(y)
		y = y2
	}
	if len(s.node.Inputs) > 2 && s.node.Inputs[2] != "" && s.gemm.beta != 0 {
		c := arg(2)
		if s.gemm.beta != 1 {
			c = scale(c, s.gemm.beta)
			defer b.Release(c)
		}
		out, _ := broadcast(y.Shape(), c.Shape())
		y2 := b.Binary(compute.Add, y, c, out)
		b.Release(y)
		y = y2
	}
	return y
}
