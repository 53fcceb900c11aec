package backbone_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/onnx"
	ot "github.com/tessera/tessera/internal/onnxtest"
)

// TestConstantOperand: an operator whose operand is computed from an
// initializer alone (x + Identity(c)) runs as x + c (it used to panic).
func TestConstantOperand(t *testing.T) {
	m := ot.Model{
		Inputs:  []ot.Value{{Name: "x", Shape: []int64{1, 4, 16, 16}}},
		Outputs: []ot.Value{{Name: "y"}},
		Inits:   []ot.Tensor{{Name: "c", Dims: []int64{1, 4, 1, 1}, Float: []float32{1, 2, 3, 4}}},
		Nodes: []ot.Node{
			{Op: "Identity", Inputs: []string{"c"}, Outputs: []string{"ci"}},
			{Op: "Add", Inputs: []string{"x", "ci"}, Outputs: []string{"y"}},
		},
	}
	g, err := onnx.Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	model, err := backbone.Load(g, backbone.Options{Layers: []string{"y"}, Height: 16, Width: 16})
	if err != nil {
		t.Fatal(err)
	}
	e, err := model.NewExecutor(cpu.New(2))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4*16*16)
	out, err := e.Run(x, []int{1, 4, 16, 16})
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Data[16*16*3]; got != 4 {
		t.Errorf("y[0,3,0,0] = %g, want 4", got)
	}
}

// TestTrainingModeBatchNorm: a batch norm in training mode (statistics
// from the batch) is refused by name, not run as inference.
func TestTrainingModeBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	bnT, bnN := bn(r, "bn", 4)
	m := ot.Model{
		Inputs:  []ot.Value{{Name: "x", Shape: []int64{1, 4, 16, 16}}},
		Outputs: []ot.Value{{Name: "y"}},
		Nodes:   []ot.Node{node("BatchNormalization", append([]string{"x"}, bnN...), "y", ot.Int("training_mode", 1))},
		Inits:   bnT,
	}
	g, err := onnx.Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backbone.Load(g, backbone.Options{Height: 16, Width: 16}); err == nil || !strings.Contains(err.Error(), "training_mode") {
		t.Errorf("training_mode=1: error %v", err)
	}
}
