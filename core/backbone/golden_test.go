package backbone_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/core/onnx"
	"github.com/tessera/tessera/internal/shared"
)

// relL2 is ||got-want|| / ||want||.
func relL2(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

var nets = []struct{ dir, file string }{
	{"resnet50v2", "resnet50v2-layer3.onnx"},
	{"mobilenetv2", "mobilenetv2-layer3.onnx"},
}

// TestGolden reproduces ONNX Runtime's feature maps for both shared models.
func TestGolden(t *testing.T) {
	for _, net := range nets {
		t.Run(net.dir, func(t *testing.T) {
			m, err := backbone.LoadFile(shared.Weights(t, net.file), backbone.Options{})
			if err != nil {
				t.Fatal(err)
			}
			x, shape, err := npy.ReadFile(shared.Path(t, "weights", "golden", net.dir, "input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			e, err := m.NewExecutor(cpu.New(0))
			if err != nil {
				t.Fatal(err)
			}
			feats, err := e.Run(x, shape)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range feats {
				want, wshape, err := npy.ReadFile(shared.Path(t, "weights", "golden", net.dir, f.Name+".npy"))
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(f.Shape) != fmt.Sprint(wshape) {
					t.Fatalf("%s: shape %v, want %v", f.Name, f.Shape, wshape)
				}
				e := relL2(f.Data, want)
				t.Logf("%s %v: relative L2 error %.2e", f.Name, f.Shape, e)
				if e > 1e-4 {
					t.Errorf("%s: relative L2 error %.2e, want < 1e-4", f.Name, e)
				}
			}
		})
	}
}

// TestAutoLayers checks that automatic layer choice finds the same stage
// outputs that the shared files name layer2 and layer3.
func TestAutoLayers(t *testing.T) {
	for _, net := range nets {
		m, err := backbone.LoadFile(shared.Weights(t, net.file), backbone.Options{Layers: []string{"auto"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(m.Layers()); got != "[layer2 layer3]" {
			t.Errorf("%s: auto layers %s, want [layer2 layer3]", net.dir, got)
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
