package backbone

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tessera/tessera/core/onnx"
)

// chooseLayers resolves Options.Layers against the graph.
func chooseLayers(g *onnx.Graph, want []string, shapes map[string][]int, height int) ([]string, error) {
	switch {
	case len(want) == 0 && !classifierOutputs(g, shapes):
		return g.Outputs, nil
	case len(want) == 0, len(want) == 1 && want[0] == "auto":
		// A classifier's outputs are logits: look inside it instead.
		return AutoLayers(g, shapes, height, []int{8, 16})
	}
	for _, l := range want {
		if _, ok := shapes[l]; ok && l != g.Inputs[0].Name {
			continue
		}
		if !produced(g, l) {
			return nil, fmt.Errorf("no node produces a tensor named %q (%s)", l, nearby(g, l))
		}
	}
	return want, nil
}

// classifierOutputs reports whether no graph output is a spatial feature
// map (N x C x H x W with H > 1), as with a classifier's logits. Outputs
// of unknown shape count as feature maps, so that loading them reports
// why their shape is unknown.
func classifierOutputs(g *onnx.Graph, shapes map[string][]int) bool {
	for _, o := range g.Outputs {
		s, ok := shapes[o]
		if !ok || len(s) == 4 && s[2] > 1 {
			return false
		}
	}
	return true
}

func produced(g *onnx.Graph, name string) bool {
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == name {
				return true
			}
		}
	}
	return false
}

// nearby lists a few tensor names to help someone who mistyped one.
func nearby(g *onnx.Graph, name string) string {
	var close, all []string
	for _, n := range g.Nodes {
		o := n.Outputs[0]
		all = append(all, o)
		if strings.Contains(strings.ToLower(o), strings.ToLower(name)) || strings.Contains(strings.ToLower(name), strings.ToLower(o)) {
			close = append(close, o)
		}
	}
	if len(close) == 0 {
		close = all[max(0, len(all)-5):]
		return "last tensors: " + strings.Join(close, ", ")
	}
	sort.Strings(close)
	return "similar: " + strings.Join(close[:min(len(close), 8)], ", ")
}

// AutoLayers finds, for each stride, the tensor that best stands for the
// end of that stage: among the tensors at that stride (input height over
// tensor height) through which the whole computation passes (nothing
// computed earlier is still needed later), the last residual sum, or the
// last such tensor when the stage has no residual sums.
func AutoLayers(g *onnx.Graph, shapes map[string][]int, height int, strides []int) ([]string, error) {
	lastUse := map[string]int{}
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			lastUse[in] = i
		}
	}
	input := g.Inputs[0].Name
	var layers []string
	for _, stride := range strides {
		var lastCut, lastAdd string
		for i, n := range g.Nodes {
			out := n.Outputs[0]
			s, ok := shapes[out]
			if !ok || len(s) != 4 || s[2]*stride != height {
				continue
			}
			if !isCut(g, i, lastUse, input, shapes) {
				continue
			}
			lastCut = out
			if n.Op == "Add" {
				lastAdd = out
			}
		}
		switch {
		case lastAdd != "":
			layers = append(layers, lastAdd)
		case lastCut != "":
			layers = append(layers, lastCut)
		default:
			return nil, fmt.Errorf("no feature map at stride %d (input height %d) for automatic layer choice; name layers explicitly", stride, height)
		}
	}
	return layers, nil
}

// isCut reports whether node i's output is the only computed tensor that
// is produced at or before i and still used after it.
func isCut(g *onnx.Graph, i int, lastUse map[string]int, input string, shapes map[string][]int) bool {
	out := g.Nodes[i].Outputs[0]
	if lastUse[input] > i {
		return false
	}
	for j := 0; j <= i; j++ {
		for _, o := range g.Nodes[j].Outputs {
			if o != out && lastUse[o] > i {
				if _, computed := shapes[o]; computed {
					return false
				}
			}
		}
	}
	return true
}
