package onnx

import (
	"fmt"
	"os"
	"sort"

	onnxgo "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// ReadFile decodes the ONNX model at path.
func ReadFile(path string) (*Graph, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	g, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return g, nil
}

// Decode decodes an ONNX model from its protobuf bytes.
func Decode(b []byte) (g *Graph, err error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty model file")
	}
	// gorgonia's tensor constructor panics on data that does not match the
	// declared shape (a truncated file, say); report that as an error.
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("corrupt model: %v", r)
		}
	}()
	if err := checkSizes(b); err != nil {
		return nil, err
	}
	inputs, err := nodeInputs(b)
	if err != nil {
		return nil, err
	}
	rec := newRecorder()
	rec.inputs = inputs
	m := onnxgo.NewModel(rec)
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("not a valid ONNX model (corrupt or truncated?): %w", err)
	}
	return rec.graph(m)
}

// recorder is the onnx-go backend: it records the operators it is handed
// instead of building anything executable.
type recorder struct {
	*simple.WeightedDirectedGraph
	nodes []*Node
	// inputs are each node's input names as the file lists them, by the
	// node's first output: onnx-go's graph has one edge per pair of
	// tensors, so it loses an input given twice (Mul(x, x)) and the
	// positions of omitted optional ones (Clip(x, "", "")).
	inputs map[string][]string
}

func newRecorder() *recorder {
	return &recorder{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(0, -1)}
}

// value is a graph node as onnx-go sees it: a named tensor slot.
type value struct {
	id   int64
	name string
	t    tensor.Tensor
}

func (v *value) ID() int64                       { return v.id }
func (v *value) SetName(s string)                { v.name = s }
func (v *value) GetName() string                 { return v.name }
func (v *value) SetTensor(t tensor.Tensor) error { v.t = t; return nil }
func (v *value) GetTensor() tensor.Tensor        { return v.t }

func (r *recorder) NewNode() graph.Node {
	return &value{id: r.WeightedDirectedGraph.NewNode().ID()}
}

func (r *recorder) SetWeightedEdge(e graph.WeightedEdge) {
	if e.From().ID() == e.To().ID() {
		return // a node that overwrites its own input; the order list keeps it
	}
	r.WeightedDirectedGraph.SetWeightedEdge(e)
}

// ApplyOperation is called once per ONNX node, after the edges from each
// output to its inputs have been added with the input position as weight.
func (r *recorder) ApplyOperation(op onnxgo.Operation, outputs ...graph.Node) error {
	if len(outputs) == 0 {
		return fmt.Errorf("operator %s has no outputs", op.Name)
	}
	n := &Node{Op: op.Name, Attrs: op.Attributes}
	for k, a := range n.Attrs {
		// Tensor attributes (Constant's value) leave gorgonia's types here.
		if t, ok := a.(tensor.Tensor); ok {
			ct, err := convert(t)
			if err != nil {
				return fmt.Errorf("operator %s: attribute %s: %w", op.Name, k, err)
			}
			n.Attrs[k] = ct
		}
	}
	for _, o := range outputs {
		n.Outputs = append(n.Outputs, o.(*value).name)
	}
	n.Name = n.Outputs[0]
	if in, ok := r.inputs[n.Name]; ok {
		n.Inputs = in
		r.nodes = append(r.nodes, n)
		return nil
	}
	type edge struct {
		pos  int
		name string
	}
	var in []edge
	for _, to := range graph.NodesOf(r.From(outputs[0].ID())) {
		w, _ := r.Weight(outputs[0].ID(), to.ID())
		in = append(in, edge{int(w), to.(*value).name})
	}
	sort.Slice(in, func(i, j int) bool { return in[i].pos < in[j].pos })
	for _, e := range in {
		for len(n.Inputs) < e.pos {
			// A gap means the same tensor fed two positions and one edge
			// replaced the other: the graph cannot represent it faithfully.
			return fmt.Errorf("node %q (%s): input %d is missing or repeats another input", n.Name, n.Op, len(n.Inputs))
		}
		n.Inputs = append(n.Inputs, e.name)
	}
	r.nodes = append(r.nodes, n)
	return nil
}

func (r *recorder) graph(m *onnxgo.Model) (*Graph, error) {
	g := &Graph{Nodes: r.nodes, Initializers: map[string]*Tensor{}}
	for _, n := range graph.NodesOf(r.Nodes()) {
		v := n.(*value)
		if v.t == nil || v.name == "" {
			continue
		}
		t, err := convert(v.t)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", v.name, err)
		}
		if t != nil {
			g.Initializers[v.name] = t
		}
	}
	for _, id := range m.Input {
		v := r.Node(id).(*value)
		val := Value{Name: v.name}
		if v.t != nil {
			val.Shape = append([]int(nil), v.t.Shape()...)
		}
		// An input declared in the file is an empty placeholder tensor, not
		// a constant: drop what convert made of it.
		delete(g.Initializers, v.name)
		g.Inputs = append(g.Inputs, val)
	}
	for _, id := range m.Output {
		v := r.Node(id).(*value)
		g.Outputs = append(g.Outputs, v.name)
		if _, ok := g.Initializers[v.name]; ok && !r.isProduced(v.name) {
			continue
		}
		delete(g.Initializers, v.name)
	}
	// Value-info entries get placeholder tensors too; only keep tensors that
	// no node produces.
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			delete(g.Initializers, o)
		}
	}
	if len(g.Inputs) == 0 {
		return nil, fmt.Errorf("graph has no input")
	}
	return g, nil
}

func (r *recorder) isProduced(name string) bool {
	for _, n := range r.nodes {
		for _, o := range n.Outputs {
			if o == name {
				return true
			}
		}
	}
	return false
}

// convert copies a gorgonia tensor into a Tensor. It returns nil for
// placeholder tensors that carry no data.
func convert(t tensor.Tensor) (*Tensor, error) {
	shape := append([]int(nil), t.Shape()...)
	if t.Shape().IsScalar() {
		shape = nil
	}
	out := &Tensor{Shape: shape}
	switch d := t.Data().(type) {
	case []float32:
		out.Float = append([]float32(nil), d...)
	case float32:
		out.Float = []float32{d}
	case []float64:
		out.Float = make([]float32, len(d))
		for i, x := range d {
			out.Float[i] = float32(x)
		}
	case float64:
		out.Float = []float32{float32(d)}
	case []int64:
		out.Int = append([]int64(nil), d...)
	case int64:
		out.Int = []int64{d}
	case []int32:
		out.Int = make([]int64, len(d))
		for i, x := range d {
			out.Int[i] = int64(x)
		}
	case int32:
		out.Int = []int64{int64(d)}
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("unsupported element type %T", d)
	}
	if n := len(out.Float) + len(out.Int); n != out.Len() {
		if n == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("holds %d values but its shape %v needs %d", n, out.Shape, out.Len())
	}
	return out, nil
}
