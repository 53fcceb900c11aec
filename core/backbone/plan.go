package backbone

import (
	"math"
	"slices"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/onnx"
)

// plan turns the pruned nodes into steps, folding each BatchNormalization
// into the Conv before it and each Relu/Clip into the Conv or unfolded
// BatchNormalization before it, when nothing else reads the intermediate
// tensor and it is not a requested layer.
func plan(nodes []*onnx.Node, consts map[string]*onnx.Tensor, shapes map[string][]int, layers []string) ([]*step, error) {
	readers := map[string]int{}
	for _, n := range nodes {
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	for _, l := range layers {
		readers[l]++ // a layer is read by the caller
	}
	var steps []*step
	producer := map[string]*step{}
	// fusable returns the step that produced t when its output may be
	// rewritten in place by a following node.
	fusable := func(t string) *step {
		s := producer[t]
		if s == nil || readers[t] != 1 {
			return nil
		}
		return s
	}
	for _, n := range nodes {
		if constNode(n, consts) {
			continue
		}
		out := n.Outputs[0]
		var data []string
		for _, in := range n.Inputs {
			if _, c := consts[in]; !c && in != "" {
				data = append(data, in)
			}
		}
		s := &step{node: n, op: n.Op, inputs: data, output: out, shape: shapes[out]}
		switch n.Op {
		case "Conv":
			w := consts[n.Inputs[1]]
			spec, err := convSpec(n, shapes[n.Inputs[0]], w.Shape)
			if err != nil {
				return nil, err
			}
			s.conv = spec
			s.weight = slices.Clone(w.Float)
			if len(n.Inputs) > 2 && n.Inputs[2] != "" {
				s.bias = slices.Clone(consts[n.Inputs[2]].Float)
			}
			if p := fusable(n.Inputs[0]); p != nil && expandable(p, spec) {
				// The 1x1 Conv runs inside this one.
				steps = slices.DeleteFunc(steps, func(x *step) bool { return x == p })
				delete(producer, p.output)
				s.expand, s.inputs = p, p.inputs
			}
		case "BatchNormalization":
			eps, err := n.AttrFloat("epsilon", 1e-5)
			if err != nil {
				return nil, err
			}
			scale, shift := bnAffine(consts, n.Inputs[1:], eps)
			if p := fusable(n.Inputs[0]); p != nil && p.op == "Conv" && !p.act.Clamp && !p.residual {
				foldAffine(p, scale, shift)
				retarget(p, out, producer)
				continue
			}
			s.op, s.scale, s.shift = "Affine", scale, shift
		case "Relu", "Clip":
			act := compute.ReLU
			if n.Op == "Clip" {
				var err error
				if act, err = clipBounds(n, consts); err != nil {
					return nil, err
				}
			}
			if p := fusable(n.Inputs[0]); p != nil && (p.op == "Conv" || p.op == "Affine") && !p.act.Clamp {
				p.act = act
				retarget(p, out, producer)
				continue
			}
			s.op, s.act = "Activate", act
		case "Identity":
			s.op, s.act = "Activate", compute.Identity
		case "Reshape":
			s.target = consts[n.Inputs[1]].Int
		case "MaxPool", "AveragePool":
			spec, err := poolSpec(n, shapes[n.Inputs[0]])
			if err != nil {
				return nil, err
			}
			s.pool = spec
		case "Concat":
			axis, err := n.AttrInt("axis", 1)
			if err != nil {
				return nil, err
			}
			if axis < 0 {
				axis += len(shapes[out])
			}
			s.axis = axis
			fallthrough
		case "Add", "Mul", "Gemm":
			if p := residualConv(n, data, shapes, fusable); p != nil {
				// The Conv moves to the Add's place, after the residual's
				// producer, which may come after it.
				steps = slices.DeleteFunc(steps, func(s *step) bool { return s == p })
				steps = append(steps, p)
				retarget(p, out, producer)
				continue
			}
			// Constant operands are uploaded once, when the plan is prepared.
			s.consts = map[int]*onnx.Tensor{}
			for i, in := range n.Inputs {
				if t, ok := consts[in]; ok {
					if t.Float == nil {
						return nil, errNode(n, "input %q holds integers, want floats", in)
					}
					s.consts[i] = t
				}
			}
			if n.Op == "Gemm" {
				g, err := gemmAttrs(n)
				if err != nil {
					return nil, err
				}
				s.gemm = g
				if _, ok := s.consts[0]; ok {
					return nil, errNode(n, "a constant first operand is not supported")
				}
			} else if len(s.consts) == len(n.Inputs) {
				return nil, errNode(n, "every operand is constant")
			}
		}
		steps = append(steps, s)
		producer[out] = s
	}
	return steps, nil
}

// expandable reports whether step p, the producer of a Conv's input, is a
// 1x1 Conv that the depthwise Conv dw can run itself
// (compute.ExpandedConv).
func expandable(p *step, dw compute.ConvSpec) bool {
	c := p.conv
	return p.op == "Conv" && !p.residual && p.expand == nil &&
		c.KH == 1 && c.KW == 1 && c.StrideH == 1 && c.StrideW == 1 && c.Group == 1 &&
		c.PadT == 0 && c.PadL == 0 && c.PadB == 0 && c.PadR == 0 &&
		dw.Group > 1 && dw.Group == dw.InC && dw.Group == dw.OutC
}

// residualConv folds an Add of two tensors of one shape, one of them the
// only use of a Conv's output, into that Conv (the Conv's step with the
// other operand as its residual), and returns the Conv's step; nil when
// the Add is not of that kind.
func residualConv(n *onnx.Node, data []string, shapes map[string][]int, fusable func(string) *step) *step {
	if n.Op != "Add" || len(n.Inputs) != 2 || len(data) != 2 || !slices.Equal(shapes[data[0]], shapes[data[1]]) {
		return nil
	}
	for i, in := range data {
		p := fusable(in)
		if p == nil || p.op != "Conv" || p.act.Clamp || p.residual || p.expand != nil {
			continue
		}
		p.residual = true
		p.inputs = append(p.inputs, data[1-i])
		return p
	}
	return nil
}

// retarget makes step p produce name instead of its current output.
func retarget(p *step, name string, producer map[string]*step) {
	delete(producer, p.output)
	p.output = name
	producer[name] = p
}

// bnAffine turns batch-norm parameters (scale, bias, mean, variance) into a
// per-channel multiply-add.
func bnAffine(consts map[string]*onnx.Tensor, params []string, eps float32) (scale, shift []float32) {
	gamma, beta := consts[params[0]].Float, consts[params[1]].Float
	mean, variance := consts[params[2]].Float, consts[params[3]].Float
	scale = make([]float32, len(gamma))
	shift = make([]float32, len(gamma))
	for c := range gamma {
		s := float64(gamma[c]) / math.Sqrt(float64(variance[c])+float64(eps))
		scale[c] = float32(s)
		shift[c] = float32(float64(beta[c]) - float64(mean[c])*s)
	}
	return scale, shift
}

// foldAffine folds y = conv(x)*scale + shift into the convolution's
// weights and bias.
func foldAffine(p *step, scale, shift []float32) {
	per := len(p.weight) / p.conv.OutC
	if p.bias == nil {
		p.bias = make([]float32, p.conv.OutC)
	}
	for o := 0; o < p.conv.OutC; o++ {
		w := p.weight[o*per : (o+1)*per]
		for i := range w {
			w[i] *= scale[o]
		}
		p.bias[o] = p.bias[o]*scale[o] + shift[o]
	}
}

func gemmAttrs(n *onnx.Node) (gemmSpec, error) {
	var g gemmSpec
	var err error
	if g.alpha, err = n.AttrFloat("alpha", 1); err != nil {
		return g, err
	}
	if g.beta, err = n.AttrFloat("beta", 1); err != nil {
		return g, err
	}
	ta, err := n.AttrInt("transA", 0)
	if err != nil {
		return g, err
	}
	tb, err := n.AttrInt("transB", 0)
	if err != nil {
		return g, err
	}
	g.transA, g.transB = ta != 0, tb != 0
	return g, nil
}

// flops counts two operations per multiply-add of a step, per image.
func (s *step) flops(shapes map[string][]int) float64 {
	switch s.op {
	case "Conv":
		c := s.conv
		f := 2 * float64(compute.Size(s.shape[1:])) * float64(c.InC/c.Group*c.KH*c.KW)
		if s.expand != nil {
			f += s.expand.flops(shapes)
		}
		return f
	case "Gemm":
		a := shapes[s.node.Inputs[0]]
		k := a[1]
		if s.gemm.transA {
			k = a[0]
		}
		return 2 * float64(compute.Size(s.shape)) * float64(k)
	}
	return 0
}
