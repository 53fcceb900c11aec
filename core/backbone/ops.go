package backbone

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/onnx"
)

// operator is what the executor knows of one ONNX operator apart from
// its three stages, each a case named after it in one switch: its output
// shape (outShape, shapes.go), its plan step with constants resolved and
// neighbours fused (plan, plan.go), and its execution on a backend
// (exec, run.go). An operator is added by an entry here and those three
// cases; TestONNXNodeTests then runs the ONNX project's tests of it.
type operator struct {
	// attrs are the attributes it reads; any other (a newer opset's, or an
	// old opset's broadcast and axis) would be ignored and give wrong
	// values, so it is refused by name.
	attrs []string
	// minInputs is how many inputs it cannot do without; a model that
	// gives fewer is refused before anything reads them.
	minInputs int
}

// operators are the ONNX operators the executor runs.
func operators() map[string]operator {
	return map[string]operator{
		"Conv":               {attrs: []string{"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, minInputs: 2},
		"BatchNormalization": {attrs: []string{"epsilon", "momentum", "training_mode", "spatial", "is_test"}, minInputs: 5},
		"Relu":               {minInputs: 1},
		"Clip":               {attrs: []string{"min", "max"}, minInputs: 1},
		"MaxPool":            {attrs: []string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}, minInputs: 1},
		"AveragePool":        {attrs: []string{"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"}, minInputs: 1},
		"GlobalAveragePool":  {minInputs: 1},
		"Add":                {minInputs: 2},
		"Mul":                {minInputs: 2},
		"Sigmoid":            {minInputs: 1},
		"Concat":             {attrs: []string{"axis"}, minInputs: 1},
		"Flatten":            {attrs: []string{"axis"}, minInputs: 1},
		"Reshape":            {attrs: []string{"allowzero"}, minInputs: 2},
		"Gemm":               {attrs: []string{"alpha", "beta", "transA", "transB"}, minInputs: 2},
		"Identity":           {minInputs: 1},
		"Constant":           {attrs: []string{"value"}, minInputs: 0},
	}
}

// Supported lists the ONNX operators the executor runs, sorted.
func Supported() []string {
	var names []string
	for op := range operators() {
		names = append(names, op)
	}
	slices.Sort(names)
	return names
}

// checkAttributes refuses an attribute the operator's executor does not read.
func checkAttributes(n *onnx.Node) error {
	names := make([]string, 0, len(n.Attrs))
	for a := range n.Attrs {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		if !slices.Contains(operators()[n.Op].attrs, a) {
			return errNode(n, "attribute %q is not supported", a)
		}
	}
	// spatial=0 (opset < 9) normalises per element, not per channel.
	if sp, err := n.AttrInt("spatial", 1); err != nil || sp != 1 {
		return errNode(n, "spatial=0 is not supported")
	}
	return nil
}

func supported(op string) bool {
	_, ok := operators()[op]
	return ok
}

// step is one operation of an execution plan: an ONNX node after constant
// inputs have been resolved and batch norms and activations fused into it.
type step struct {
	node   *onnx.Node // the node it came from, for error messages
	op     string
	inputs []string // non-constant inputs
	output string
	shape  []int // output shape

	conv   compute.ConvSpec
	weight []float32 // Conv OIHW weights
	bias   []float32
	// residual: a Conv whose output had an Add as its only reader, now
	// act(conv(inputs[0]) + inputs[1]).
	residual bool
	// expand: a depthwise Conv whose input was a 1x1 Conv's output read by
	// nothing else; the step runs both, from expand's input.
	expand *step
	act    compute.Activation
	scale  []float32 // BatchNormalization as a per-channel affine map
	shift  []float32
	pool   compute.PoolSpec
	axis   int
	target []int64              // Reshape's target shape
	consts map[int]*onnx.Tensor // Add/Mul/Gemm constant operands by input position
	gemm   gemmSpec
}

type gemmSpec struct {
	alpha, beta    float32
	transA, transB bool
}

// errNode wraps an error with the node it concerns.
func errNode(n *onnx.Node, format string, args ...any) error {
	return fmt.Errorf("node %q (%s): %s", n.Name, n.Op, fmt.Sprintf(format, args...))
}

// convSpec reads a Conv node's attributes for a given input and weight shape.
func convSpec(n *onnx.Node, in, w []int) (compute.ConvSpec, error) {
	if len(in) != 4 {
		return compute.ConvSpec{}, errNode(n, "input has shape %v; only 2-D convolutions over NCHW are supported", in)
	}
	if len(w) != 4 {
		return compute.ConvSpec{}, errNode(n, "weight has shape %v, want 4 dimensions (OIHW)", w)
	}
	group, err := n.AttrInt("group", 1)
	if err != nil {
		return compute.ConvSpec{}, err
	}
	if group < 1 || in[1]%group != 0 || w[0]%group != 0 {
		return compute.ConvSpec{}, errNode(n, "group %d does not divide %d input and %d output channels", group, in[1], w[0])
	}
	if w[1]*group != in[1] {
		return compute.ConvSpec{}, errNode(n, "expects %d input channels, got %d (input shape %v)", w[1]*group, in[1], in)
	}
	s := compute.ConvSpec{OutC: w[0], InC: in[1], KH: w[2], KW: w[3], Group: group}
	if ks, err := n.AttrInts("kernel_shape", nil); err != nil {
		return s, err
	} else if ks != nil && (len(ks) != 2 || ks[0] != w[2] || ks[1] != w[3]) {
		return s, errNode(n, "kernel_shape %v disagrees with weight shape %v", ks, w)
	}
	win := [2]int{w[2], w[3]}
	geo, err := window(n, in, win, [2]int{1, 1})
	if err != nil {
		return s, err
	}
	s.StrideH, s.StrideW = geo.strides[0], geo.strides[1]
	s.DilH, s.DilW = geo.dil[0], geo.dil[1]
	s.PadT, s.PadL, s.PadB, s.PadR = geo.pads[0], geo.pads[1], geo.pads[2], geo.pads[3]
	if oh, ow := s.OutSize(in[2], in[3]); oh < 1 || ow < 1 {
		return s, errNode(n, "input %dx%d is too small for a %dx%d kernel", in[2], in[3], w[2], w[3])
	}
	return s, nil
}

type windowGeometry struct {
	strides, dil [2]int
	pads         [4]int // top, left, bottom, right
}

// window reads strides, dilations and pads (explicit or auto_pad) of a
// sliding-window operator.
func window(n *onnx.Node, in []int, k, defDil [2]int) (windowGeometry, error) {
	var g windowGeometry
	st, err := n.AttrInts("strides", []int{1, 1})
	if err != nil {
		return g, err
	}
	dl, err := n.AttrInts("dilations", []int{defDil[0], defDil[1]})
	if err != nil {
		return g, err
	}
	pd, err := n.AttrInts("pads", []int{0, 0, 0, 0})
	if err != nil {
		return g, err
	}
	if len(st) != 2 || len(dl) != 2 || len(pd) != 4 {
		return g, errNode(n, "strides %v, dilations %v, pads %v: only 2-D windows are supported", st, dl, pd)
	}
	for _, v := range append(st, dl...) {
		if v < 1 {
			return g, errNode(n, "strides %v and dilations %v must be positive", st, dl)
		}
	}
	for _, v := range pd {
		if v < 0 {
			return g, errNode(n, "negative pads %v", pd)
		}
	}
	g.strides = [2]int{st[0], st[1]}
	g.dil = [2]int{dl[0], dl[1]}
	// ONNX orders pads as begin of each axis, then end of each axis.
	g.pads = [4]int{pd[0], pd[1], pd[2], pd[3]}
	auto, err := n.AttrString("auto_pad", "NOTSET")
	if err != nil {
		return g, err
	}
	switch auto {
	case "NOTSET", "":
	case "VALID":
		g.pads = [4]int{}
	case "SAME_UPPER", "SAME_LOWER":
		for a := 0; a < 2; a++ {
			size := in[2+a]
			out := (size + g.strides[a] - 1) / g.strides[a]
			total := max(0, (out-1)*g.strides[a]+(k[a]-1)*g.dil[a]+1-size)
			small, big := total/2, total-total/2
			if auto == "SAME_UPPER" {
				g.pads[a], g.pads[a+2] = small, big
			} else {
				g.pads[a], g.pads[a+2] = big, small
			}
		}
	default:
		return g, errNode(n, "unknown auto_pad %q", auto)
	}
	return g, nil
}

// poolSpec reads a MaxPool or AveragePool node's attributes.
func poolSpec(n *onnx.Node, in []int) (compute.PoolSpec, error) {
	var s compute.PoolSpec
	if len(in) != 4 {
		return s, errNode(n, "input has shape %v; only 2-D pooling over NCHW is supported", in)
	}
	ks, err := n.AttrInts("kernel_shape", nil)
	if err != nil {
		return s, err
	}
	if len(ks) != 2 {
		return s, errNode(n, "kernel_shape %v: only 2-D pooling is supported", ks)
	}
	geo, err := window(n, in, [2]int{ks[0], ks[1]}, [2]int{1, 1})
	if err != nil {
		return s, err
	}
	if geo.dil != [2]int{1, 1} {
		return s, errNode(n, "dilated pooling (dilations %v) is not supported", geo.dil)
	}
	ceil, err := n.AttrInt("ceil_mode", 0)
	if err != nil {
		return s, err
	}
	cip, err := n.AttrInt("count_include_pad", 0)
	if err != nil {
		return s, err
	}
	s = compute.PoolSpec{
		Kind: compute.MaxPool, KH: ks[0], KW: ks[1],
		StrideH: geo.strides[0], StrideW: geo.strides[1],
		PadT: geo.pads[0], PadL: geo.pads[1], PadB: geo.pads[2], PadR: geo.pads[3],
		CeilMode: ceil != 0, CountIncludePad: cip != 0,
	}
	if n.Op == "AveragePool" {
		s.Kind = compute.AvgPool
	}
	if oh, ow := s.OutSize(in[2], in[3]); oh < 1 || ow < 1 {
		return s, errNode(n, "input %dx%d is too small for a %dx%d window", in[2], in[3], ks[0], ks[1])
	}
	return s, nil
}

// clipBounds reads Clip's bounds: attributes before opset 11, optional
// constant inputs from opset 11 on.
func clipBounds(n *onnx.Node, consts map[string]*onnx.Tensor) (compute.Activation, error) {
	act := compute.Activation{Clamp: true, Min: float32(math.Inf(-1)), Max: float32(math.Inf(1))}
	var err error
	if act.Min, err = n.AttrFloat("min", act.Min); err != nil {
		return act, err
	}
	if act.Max, err = n.AttrFloat("max", act.Max); err != nil {
		return act, err
	}
	for i, dst := range []*float32{&act.Min, &act.Max} {
		if len(n.Inputs) <= i+1 || n.Inputs[i+1] == "" {
			continue
		}
		t, ok := consts[n.Inputs[i+1]]
		if !ok || len(t.Float) != 1 {
			return act, errNode(n, "bound %q must be a constant scalar", n.Inputs[i+1])
		}
		*dst = t.Float[0]
	}
	return act, nil
}

// broadcast returns the numpy-broadcast shape of a and b.
func broadcast(a, b []int) ([]int, bool) {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := append([]int(nil), a...)
	off := len(a) - len(b)
	for i, d := range b {
		switch {
		case out[i+off] == d, d == 1:
		case out[i+off] == 1:
			out[i+off] = d
		default:
			return nil, false
		}
	}
	return out, true
}
