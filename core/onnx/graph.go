// Package onnx decodes an ONNX model file into a plain, executor-neutral
// graph: nodes in file order, their attributes, and the initializers as
// float32 or int64 slices.
//
// It is the only package that sees github.com/owulveryck/onnx-go and
// gorgonia.org/tensor; everything above it works on the types defined here.
package onnx

import "fmt"

// Graph is a decoded ONNX graph.
type Graph struct {
	// Inputs are the graph inputs that are not initializers, in file order.
	Inputs []Value
	// Outputs are the names of the graph outputs, in file order.
	Outputs []string
	// Nodes are the operators in file order, which ONNX requires to be a
	// topological order.
	Nodes []*Node
	// Initializers maps a tensor name to its constant value.
	Initializers map[string]*Tensor
}

// Value is a named graph input. Shape holds the fixed dimensions the file
// declares; dynamic dimensions (such as a symbolic batch size) are absent.
type Value struct {
	Name  string
	Shape []int
}

// Node is one operator application.
type Node struct {
	// Name is the node's first output's name: onnx-go does not pass node
	// names through, and output names are what users see in tools like Netron.
	Name    string
	Op      string
	Inputs  []string // "" marks an omitted optional input
	Outputs []string
	Attrs   map[string]any
}

// Tensor is a constant tensor. Exactly one of Float and Int holds the data.
type Tensor struct {
	Shape []int
	Float []float32
	Int   []int64
}

// Len is the number of elements the shape describes.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// AttrInt returns an integer attribute, or def when the node lacks it.
func (n *Node) AttrInt(name string, def int) (int, error) {
	v, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	i, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("node %q (%s): attribute %s is %T, want an integer", n.Name, n.Op, name, v)
	}
	return int(i), nil
}

// AttrFloat returns a float attribute, or def when the node lacks it.
func (n *Node) AttrFloat(name string, def float32) (float32, error) {
	v, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	f, ok := v.(float32)
	if !ok {
		return 0, fmt.Errorf("node %q (%s): attribute %s is %T, want a float", n.Name, n.Op, name, v)
	}
	return f, nil
}

// AttrInts returns an integer-list attribute, or def when the node lacks it.
func (n *Node) AttrInts(name string, def []int) ([]int, error) {
	v, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	is, ok := v.([]int64)
	if !ok {
		return nil, fmt.Errorf("node %q (%s): attribute %s is %T, want a list of integers", n.Name, n.Op, name, v)
	}
	out := make([]int, len(is))
	for i, x := range is {
		out[i] = int(x)
	}
	return out, nil
}

// AttrString returns a string attribute, or def when the node lacks it.
func (n *Node) AttrString(name, def string) (string, error) {
	v, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("node %q (%s): attribute %s is %T, want a string", n.Name, n.Op, name, v)
	}
	return s, nil
}
