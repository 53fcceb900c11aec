package backbone_test

import (
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/onnx"
	ot "github.com/tessera/tessera/internal/onnxtest"
)

// TestConstantOperand: an operator whose operand is computed from an
// initializer alone (x + Identity(c)) loads and runs, or is refused with
// an error; it must not panic.
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
		t.Logf("refused at load: %v", err)
		return
	}
	e, err := model.NewExecutor(cpu.New(2))
	if err != nil {
		t.Logf("refused by the executor: %v", err)
		return
	}
	x := make([]float32, 4*16*16)
	out, err := e.Run(x, []int{1, 4, 16, 16})
	if err != nil {
		t.Logf("refused at run: %v", err)
		return
	}
	if got := out[0].Data[16*16*3]; got != 4 {
		t.Errorf("y[0,3,0,0] = %g, want 4", got)
	}
}
