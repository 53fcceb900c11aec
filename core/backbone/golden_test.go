package backbone_test

import (
	"fmt"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/onnx"
	"github.com/tessera/tessera/internal/golden"
	"github.com/tessera/tessera/internal/shared"
)

// TestGolden reproduces ONNX Runtime's feature maps for both shared models.
func TestGolden(t *testing.T) {
	for _, net := range golden.Nets {
		t.Run(net.Dir, func(t *testing.T) {
			e, err := golden.Model(t, net).NewExecutor(cpu.New(0))
			if err != nil {
				t.Fatal(err)
			}
			x, shape := golden.Input(t, net)
			feats, err := e.Run(x, shape)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, net, feats, e.Backend().Name())
		})
	}
}

// TestAutoLayers checks that automatic layer choice finds the same stage
// outputs that the shared files name layer2 and layer3.
func TestAutoLayers(t *testing.T) {
	for _, net := range golden.Nets {
		m, err := backbone.LoadFile(shared.Weights(t, net.File), backbone.Options{Layers: []string{"auto"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(m.Layers()); got != "[layer2 layer3]" {
			t.Errorf("%s: auto layers %s, want [layer2 layer3]", net.Dir, got)
		}
	}
}

// TestClassifierUsesAutoLayers grows a shared backbone into a classifier
// (pooling, flatten, fully connected logits): with no layers named, the
// stage outputs are found inside it and only the backbone part runs.
func TestClassifierUsesAutoLayers(t *testing.T) {
	g, err := onnx.ReadFile(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	g.Nodes = append(g.Nodes,
		&onnx.Node{Name: "pool", Op: "GlobalAveragePool", Inputs: []string{"layer3"}, Outputs: []string{"pool"}},
		&onnx.Node{Name: "flat", Op: "Flatten", Inputs: []string{"pool"}, Outputs: []string{"flat"}, Attrs: map[string]any{}},
		&onnx.Node{Name: "logits", Op: "Gemm", Inputs: []string{"flat", "fc_w", "fc_b"}, Outputs: []string{"logits"}, Attrs: map[string]any{"transB": int64(1)}},
	)
	g.Initializers["fc_w"] = &onnx.Tensor{Shape: []int{1000, 96}, Float: make([]float32, 96000)}
	g.Initializers["fc_b"] = &onnx.Tensor{Shape: []int{1000}, Float: make([]float32, 1000)}
	g.Outputs = []string{"logits"}
	m, err := backbone.Load(g, backbone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(m.Layers()); got != "[layer2 layer3]" {
		t.Errorf("classifier: layers %s, want [layer2 layer3]", got)
	}
	// The explicit form still reaches the logits.
	m, err = backbone.Load(g, backbone.Options{Layers: []string{"logits"}})
	if err != nil {
		t.Fatal(err)
	}
	if s := m.LayerShape("logits"); fmt.Sprint(s) != "[1 1000]" {
		t.Errorf("logits shape %v", s)
	}
}
