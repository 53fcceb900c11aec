// Package backbone turns a decoded ONNX graph into an execution plan for
// feature extraction: it infers shapes, chooses the feature layers, prunes
// everything those layers do not need, folds batch normalisation and
// activations into the convolutions before them, and runs the plan on a
// compute.Backend.
package backbone

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tessera/tessera/core/onnx"
)

// Options configure how a graph becomes a Model.
type Options struct {
	// Layers names the tensors to extract. Empty means the graph outputs
	// when they are feature maps, else "auto"; the single word "auto" means
	// the stride-8 and stride-16 stage outputs found by shape inference
	// (see AutoLayers), so a whole classifier works unchanged.
	Layers []string
	// Height and Width are the input size the model runs at; zero means the
	// size the file declares, or 224.
	Height, Width int
}

// Model is an execution plan for one ONNX graph at one input size.
type Model struct {
	input    string
	channels int
	height   int
	width    int
	layers   []string
	shapes   map[string][]int // every tensor's shape at batch 1
	steps    []*step
	// separable says each image's features depend on that image alone,
	// with no operator that mixes the batch axis: a batch may then run in
	// parts (compute.PartBatcher).
	separable bool
	flops     float64 // multiply-adds x2 per image
}

// Load builds a Model from a decoded graph.
func Load(g *onnx.Graph, opts Options) (*Model, error) {
	if len(g.Inputs) != 1 {
		names := make([]string, len(g.Inputs))
		for i, in := range g.Inputs {
			names[i] = in.Name
		}
		return nil, fmt.Errorf("backbone: the graph has %d inputs %v; a backbone takes one image tensor", len(g.Inputs), names)
	}
	in := g.Inputs[0]
	m := &Model{input: in.Name, height: opts.Height, width: opts.Width}
	// onnx-go keeps only fixed dimensions, so a dynamic batch leaves C, H, W.
	if d := in.Shape; len(d) >= 3 {
		m.channels = d[len(d)-3]
		if m.height == 0 {
			m.height, m.width = d[len(d)-2], d[len(d)-1]
		}
	} else if len(d) != 0 {
		return nil, fmt.Errorf("backbone: input %q has shape %v, want N x C x H x W", in.Name, d)
	}
	if m.height <= 0 || m.width <= 0 {
		m.height, m.width = 224, 224
	}
	if m.channels == 0 {
		m.channels = firstConvChannels(g, in.Name)
	}
	if m.channels == 0 {
		return nil, fmt.Errorf("backbone: cannot tell how many channels input %q has", in.Name)
	}

	consts := constants(g)
	shapes, unknown := inferShapes(g, in.Name, []int{1, m.channels, m.height, m.width}, consts)
	m.shapes = shapes

	layers, err := chooseLayers(g, opts.Layers, shapes, m.height)
	if err != nil {
		return nil, fmt.Errorf("backbone: %w", err)
	}
	m.layers = layers
	nodes := prune(g, layers)
	for _, n := range nodes {
		if !supported(n.Op) {
			return nil, fmt.Errorf("backbone: node %q uses operator %s, which is not supported (supported: %s)",
				n.Name, n.Op, strings.Join(Supported(), ", "))
		}
		if err := checkAttributes(n); err != nil {
			return nil, fmt.Errorf("backbone: %w", err)
		}
		if err := unknown[n.Name]; err != nil {
			return nil, fmt.Errorf("backbone: %w", err)
		}
	}
	for _, l := range layers {
		if _, ok := shapes[l]; !ok {
			return nil, fmt.Errorf("backbone: layer %q has no known shape", l)
		}
	}
	m.steps, err = plan(nodes, consts, shapes, layers)
	if err != nil {
		return nil, fmt.Errorf("backbone: %w", err)
	}
	for _, s := range m.steps {
		m.flops += s.flops(shapes)
	}
	m.separable = separable(m.steps)
	return m, nil
}

// separable says whether no step mixes images of a batch: per-image
// operators only, and constant operands that broadcast over the batch.
// A Reshape, Flatten or Gemm (which may fold the batch axis), a Concat
// with a constant (whose batch must match) or along the batch axis is not.
func separable(steps []*step) bool {
	for _, s := range steps {
		switch s.op {
		case "Conv", "Affine", "Activate", "Sigmoid", "MaxPool", "AveragePool", "GlobalAveragePool":
		case "Add", "Mul":
			for _, c := range s.consts {
				if len(c.Shape) == len(s.shape) && c.Shape[0] != 1 {
					return false
				}
			}
		case "Concat":
			if len(s.consts) > 0 || s.axis == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// LoadFile reads an ONNX file and builds a Model from it.
func LoadFile(path string, opts Options) (*Model, error) {
	g, err := onnx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Load(g, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Layers returns the names of the extracted tensors, in order.
func (m *Model) Layers() []string { return slices.Clone(m.layers) }

// LayerShape returns a layer's shape for a batch of one.
func (m *Model) LayerShape(name string) []int { return slices.Clone(m.shapes[name]) }

// InputShape returns the C, H, W the model expects.
func (m *Model) InputShape() (c, h, w int) { return m.channels, m.height, m.width }

// FLOPs is the number of floating-point operations per image (two per
// multiply-add), counting convolutions and matrix products.
func (m *Model) FLOPs() float64 { return m.flops }

// constants collects initializers, Constant nodes' values and the
// Identity of a constant (x + Identity(w) is x + w).
func constants(g *onnx.Graph) map[string]*onnx.Tensor {
	c := make(map[string]*onnx.Tensor, len(g.Initializers))
	for k, v := range g.Initializers {
		c[k] = v
	}
	for _, n := range g.Nodes {
		if len(n.Outputs) == 0 {
			continue
		}
		switch n.Op {
		case "Constant":
			if t, ok := n.Attrs["value"].(*onnx.Tensor); ok {
				c[n.Outputs[0]] = t
			}
		case "Identity":
			if len(n.Inputs) == 1 {
				if t, ok := c[n.Inputs[0]]; ok {
					c[n.Outputs[0]] = t
				}
			}
		}
	}
	return c
}

// constNode reports a node whose value is known before any input: a
// Constant, or the Identity of a constant. Such nodes are not run.
func constNode(n *onnx.Node, consts map[string]*onnx.Tensor) bool {
	if n.Op == "Constant" {
		return true
	}
	if n.Op == "Identity" && len(n.Inputs) == 1 && len(n.Outputs) == 1 {
		_, in := consts[n.Inputs[0]]
		return in
	}
	return false
}

func firstConvChannels(g *onnx.Graph, input string) int {
	for _, n := range g.Nodes {
		if n.Op == "Conv" && len(n.Inputs) > 1 && n.Inputs[0] == input {
			if w, ok := g.Initializers[n.Inputs[1]]; ok && len(w.Shape) == 4 {
				return w.Shape[1]
			}
		}
	}
	return 0
}

// prune returns, in file order, the nodes the given tensors depend on.
func prune(g *onnx.Graph, want []string) []*onnx.Node {
	producer := map[string]*onnx.Node{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			producer[o] = n
		}
	}
	need := map[*onnx.Node]bool{}
	stack := slices.Clone(want)
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, ok := producer[t]
		if !ok || need[n] {
			continue
		}
		need[n] = true
		stack = append(stack, n.Inputs...)
	}
	var out []*onnx.Node
	for _, n := range g.Nodes {
		if need[n] {
			out = append(out, n)
		}
	}
	return out
}
