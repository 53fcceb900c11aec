package backbone

import (
	"fmt"
	"slices"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/onnx"
)

// inferShapes propagates the input shape through the graph. Nodes whose
// shape cannot be inferred (an unsupported operator, a shape mismatch, or
// an input that depends on either) are reported in unknown by node name
// rather than failing: they only matter if a chosen layer needs them.
func inferShapes(g *onnx.Graph, input string, in []int, consts map[string]*onnx.Tensor) (shapes map[string][]int, unknown map[string]error) {
	shapes = map[string][]int{input: in}
	unknown = map[string]error{}
	cause := map[string]error{} // tensor -> why its shape is unknown
	for _, n := range g.Nodes {
		if constNode(n, consts) {
			continue
		}
		var err error
		var ins [][]int
		for _, name := range n.Inputs {
			if e, bad := cause[name]; bad && err == nil {
				err = e
			}
			ins = append(ins, shapes[name])
		}
		var out []int
		if err == nil {
			switch {
			case !supported(n.Op):
				err = fmt.Errorf("node %q uses operator %s, which is not supported", n.Name, n.Op)
			case len(n.Outputs) == 0 || n.Outputs[0] == "":
				err = errNode(n, "has no output")
			case len(n.Inputs) < minInputs(n.Op):
				err = errNode(n, "has %d inputs, %s needs at least %d", len(n.Inputs), n.Op, minInputs(n.Op))
			default:
				out, err = outShape(n, ins, consts)
			}
		}
		if err != nil {
			unknown[n.Name] = err
			for _, o := range n.Outputs {
				cause[o] = err
			}
			continue
		}
		shapes[n.Outputs[0]] = out
	}
	return shapes, unknown
}

// minInputs is how many inputs an operator cannot do without.
func minInputs(op string) int { return operators()[op].minInputs }

// outShape infers a node's first output shape from its input shapes
// (nil for constant inputs, whose shapes come from consts).
func outShape(n *onnx.Node, ins [][]int, consts map[string]*onnx.Tensor) ([]int, error) {
	shapeOf := func(i int) []int {
		if i >= len(ins) {
			return nil
		}
		if ins[i] != nil {
			return ins[i]
		}
		if t, ok := consts[n.Inputs[i]]; ok {
			return t.Shape
		}
		return nil
	}
	x := shapeOf(0)
	if x == nil {
		return nil, errNode(n, "input %q is neither computed nor constant", n.Inputs[0])
	}
	switch n.Op {
	case "Conv":
		w, ok := consts[n.Inputs[1]]
		if !ok {
			return nil, errNode(n, "weight %q must be a constant", n.Inputs[1])
		}
		s, err := convSpec(n, x, w.Shape)
		if err != nil {
			return nil, err
		}
		if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			if b, ok := consts[n.Inputs[2]]; !ok || b.Len() != s.OutC {
				return nil, errNode(n, "bias %q must be a constant of %d values", n.Inputs[2], s.OutC)
			}
		}
		oh, ow := s.OutSize(x[2], x[3])
		return []int{x[0], s.OutC, oh, ow}, nil
	case "BatchNormalization":
		// In training mode the statistics come from the batch, not the
		// stored mean and variance: a different operator altogether.
		if tm, err := n.AttrInt("training_mode", 0); err != nil || tm != 0 {
			return nil, errNode(n, "training_mode=1 is not supported; export the model for inference")
		}
		if len(n.Outputs) > 1 {
			return nil, errNode(n, "the running mean and variance outputs are training outputs, not supported")
		}
		if len(x) < 2 {
			return nil, errNode(n, "input has shape %v, want at least N x C", x)
		}
		if len(n.Inputs) != 5 {
			return nil, errNode(n, "has %d inputs, want 5", len(n.Inputs))
		}
		for _, p := range n.Inputs[1:] {
			if t, ok := consts[p]; !ok || t.Len() != x[1] {
				return nil, errNode(n, "parameter %q must be a constant of %d values", p, x[1])
			}
		}
		return slices.Clone(x), nil
	case "Relu", "Clip", "Sigmoid", "Identity":
		return slices.Clone(x), nil
	case "MaxPool", "AveragePool":
		if len(n.Outputs) > 1 {
			return nil, errNode(n, "the Indices output is not supported")
		}
		s, err := poolSpec(n, x)
		if err != nil {
			return nil, err
		}
		oh, ow := s.OutSize(x[2], x[3])
		return []int{x[0], x[1], oh, ow}, nil
	case "GlobalAveragePool":
		if len(x) < 3 {
			return nil, errNode(n, "input has shape %v, want N x C x spatial", x)
		}
		out := slices.Clone(x)
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		return out, nil
	case "Add", "Mul":
		y := shapeOf(1)
		if y == nil {
			return nil, errNode(n, "second input %q is unknown", n.Inputs[1])
		}
		out, ok := broadcast(x, y)
		if !ok {
			return nil, errNode(n, "shapes %v and %v do not broadcast", x, y)
		}
		return out, nil
	case "Concat":
		axis, err := n.AttrInt("axis", 1)
		if err != nil {
			return nil, err
		}
		if axis < 0 {
			axis += len(x)
		}
		if axis < 0 || axis >= len(x) {
			return nil, errNode(n, "axis %d out of range for rank %d", axis, len(x))
		}
		out := slices.Clone(x)
		out[axis] = 0
		for i := range n.Inputs {
			s := shapeOf(i)
			if len(s) != len(x) {
				return nil, errNode(n, "input %d has shape %v, want rank %d", i, s, len(x))
			}
			for d := range s {
				if d != axis && s[d] != x[d] {
					return nil, errNode(n, "input %d has shape %v, incompatible with %v", i, s, x)
				}
			}
			out[axis] += s[axis]
		}
		return out, nil
	case "Flatten":
		axis, err := n.AttrInt("axis", 1)
		if err != nil {
			return nil, err
		}
		if axis < 0 {
			axis += len(x)
		}
		if axis < 0 || axis > len(x) {
			return nil, errNode(n, "axis %d out of range for rank %d", axis, len(x))
		}
		return []int{compute.Size(x[:axis]), compute.Size(x[axis:])}, nil
	case "Reshape":
		t, ok := consts[n.Inputs[1]]
		if !ok || t.Int == nil {
			return nil, errNode(n, "target shape %q must be a constant integer tensor", n.Inputs[1])
		}
		return reshape(n, x, t.Int)
	case "Gemm":
		return gemmShape(n, x, shapeOf(1), shapeOf(2))
	}
	return nil, errNode(n, "no shape rule")
}

// reshape resolves ONNX Reshape's target (0 copies a dimension, -1 is
// inferred) against the input shape.
func reshape(n *onnx.Node, x []int, target []int64) ([]int, error) {
	// allowzero=1 makes 0 a zero-size dimension rather than a copy.
	if az, err := n.AttrInt("allowzero", 0); err != nil || az != 0 && slices.Contains(target, 0) {
		return nil, errNode(n, "allowzero=1 with a 0 in the target shape %v is not supported", target)
	}
	out := make([]int, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == 0 && i < len(x):
			out[i] = x[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d > 0:
			out[i] = int(d)
		default:
			return nil, errNode(n, "invalid target shape %v", target)
		}
		known *= out[i]
	}
	total := compute.Size(x)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, errNode(n, "cannot reshape %v to %v", x, target)
		}
		out[infer] = total / known
	}
	if compute.Size(out) != total {
		return nil, errNode(n, "cannot reshape %v to %v", x, target)
	}
	return out, nil
}

func gemmShape(n *onnx.Node, a, b, c []int) ([]int, error) {
	ta, err := n.AttrInt("transA", 0)
	if err != nil {
		return nil, err
	}
	tb, err := n.AttrInt("transB", 0)
	if err != nil {
		return nil, err
	}
	if len(a) != 2 || len(b) != 2 {
		return nil, errNode(n, "operands have shapes %v and %v, want 2-D", a, b)
	}
	m, k := a[0], a[1]
	if ta != 0 {
		m, k = k, m
	}
	kb, nn := b[0], b[1]
	if tb != 0 {
		kb, nn = nn, kb
	}
	if k != kb {
		return nil, errNode(n, "inner dimensions differ: %v x %v (transA=%d, transB=%d)", a, b, ta, tb)
	}
	out := []int{m, nn}
	if c != nil {
		if _, ok := broadcast(out, c); !ok {
			return nil, errNode(n, "bias shape %v does not broadcast to %v", c, out)
		}
	}
	return out, nil
}
