package backbone_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/onnx"
)

// nodeTestDir is where Debian's libonnx-testdata puts the ONNX project's
// backend node tests: one folder per test with model.onnx and
// test_data_set_0/{input,output}_N.pb.
const nodeTestDir = "/usr/share/libonnx-testdata/data/node"

// errNotApplicable marks a node test that uses an operator or a shape the
// executor does not claim to support; such tests are counted, not failed.
var errNotApplicable = errors.New("not applicable")

// TestONNXNodeTests runs every ONNX backend node test whose operators are
// all supported and checks the outputs against the test's own. A backbone
// takes one image tensor, so the harness wraps each test: the first graph
// input stays the input (reshaped from a 1x1x1xN tensor when it is not
// already 1xCxHxW), the others become initializers, as the weights of a
// real model are. A test the executor refuses must be refused with an
// error that names the operator or attribute; none may panic or differ.
func TestONNXNodeTests(t *testing.T) {
	dir := os.Getenv("TESSERA_ONNX_NODE_TESTS")
	if dir == "" {
		dir = nodeTestDir
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the ONNX node tests must run in CI (apt-get install libonnx-testdata): %v", err)
		}
		t.Skipf("no ONNX node tests (apt-get install libonnx-testdata): %v", err)
	}
	var passed, refused []string
	skipped := 0
	for _, e := range entries {
		name := e.Name()
		err := runNodeTest(filepath.Join(dir, name))
		switch {
		case err == nil:
			passed = append(passed, name)
		case errors.Is(err, errNotApplicable):
			skipped++
		case errors.Is(err, errRefused):
			refused = append(refused, fmt.Sprintf("%s: %v", name, err))
		default:
			t.Errorf("%s: %v", name, err)
		}
	}
	sort.Strings(refused)
	t.Logf("ONNX node tests: %d exact, %d refused with a reason, %d not applicable", len(passed), len(refused), skipped)
	for _, r := range refused {
		t.Logf("refused: %s", r)
	}
	// The supported operators' own tests: these must keep passing.
	for _, want := range []string{
		"test_conv_with_strides_padding", "test_conv_with_autopad_same", "test_basic_conv_with_padding",
		"test_batchnorm_epsilon", "test_relu", "test_clip", "test_clip_default_inbounds",
		"test_maxpool_2d_pads", "test_maxpool_2d_same_upper", "test_averagepool_2d_pads",
		"test_averagepool_2d_pads_count_include_pad", "test_globalaveragepool", "test_add",
		"test_add_bcast", "test_mul", "test_sigmoid", "test_concat_3d_axis_1", "test_flatten_axis1",
		"test_reshape_reordered_all_dims", "test_gemm_default_no_bias", "test_gemm_all_attributes",
		"test_identity",
	} {
		if !slices.Contains(passed, want) {
			t.Errorf("%s did not pass", want)
		}
	}
}

// errRefused marks a test the backbone refused at load time with an error.
var errRefused = errors.New("refused")

func runNodeTest(dir string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	ops, err := onnx.Operators(b)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if !slices.Contains(backbone.Supported(), op) {
			return fmt.Errorf("%w: operator %s", errNotApplicable, op)
		}
	}
	g, err := onnx.Decode(b)
	if err != nil {
		// onnx-go decodes no float16, bool or 8-bit tensors, and neither
		// does the executor run them.
		// A graph with no input is no backbone. Zero-size and non-tensor
		// inputs are refused by name.
		for _, typ := range []string{"element type", "FLOAT16", "BFLOAT16", "has no input", "zero-size", "not a tensor"} {
			if strings.Contains(err.Error(), typ) {
				return fmt.Errorf("%w: %v", errNotApplicable, err)
			}
		}
		return fmt.Errorf("decode: %v", err)
	}
	ins, err := readTensors(dir, "input", len(g.Inputs))
	if err != nil {
		return err
	}
	outs, err := readTensors(dir, "output", len(g.Outputs))
	if err != nil {
		return err
	}
	if len(ins) == 0 || ins[0].Float == nil || ins[0].Len() == 0 {
		return fmt.Errorf("%w: the first input is not a non-empty float tensor", errNotApplicable)
	}
	for i, in := range g.Inputs[1:] {
		g.Initializers[in.Name] = ins[i+1]
	}
	x := ins[0]
	shape := x.Shape
	if len(shape) != 4 || shape[0] != 1 {
		// Reshape a 1x1x1xN image into the test's input.
		orig := g.Inputs[0].Name
		g.Inputs[0] = onnx.Value{Name: "harness_in", Shape: []int{1, 1, 1, x.Len()}}
		target := make([]int64, len(x.Shape))
		for i, d := range x.Shape {
			target[i] = int64(d)
		}
		g.Initializers["harness_shape"] = &onnx.Tensor{Shape: []int{len(target)}, Int: target}
		g.Nodes = append([]*onnx.Node{{Name: orig, Op: "Reshape", Inputs: []string{"harness_in", "harness_shape"}, Outputs: []string{orig}}}, g.Nodes...)
		shape = []int{1, 1, 1, x.Len()}
	}
	g.Inputs = g.Inputs[:1]
	m, err := backbone.Load(g, backbone.Options{Layers: g.Outputs, Height: shape[2], Width: shape[3]})
	if err != nil {
		if !strings.Contains(err.Error(), "node ") && !strings.Contains(err.Error(), "operator") {
			return fmt.Errorf("refused without naming the node: %v", err)
		}
		return fmt.Errorf("%w: %v", errRefused, err)
	}
	ex, err := m.NewExecutor(cpu.New(1))
	if err != nil {
		return err
	}
	feats, err := ex.Run(x.Float, shape)
	if err != nil {
		return fmt.Errorf("run: %v", err)
	}
	for i, f := range feats {
		want := outs[i]
		if !slices.Equal(f.Shape, want.Shape) && !(len(want.Shape) == 0 && len(f.Data) == 1) {
			return fmt.Errorf("output %d has shape %v, want %v", i, f.Shape, want.Shape)
		}
		for j, w := range want.Float {
			got := f.Data[j]
			if d := math.Abs(float64(got - w)); d > 1e-6+1e-5*math.Abs(float64(w)) || math.IsNaN(float64(got)) != math.IsNaN(float64(w)) {
				return fmt.Errorf("output %d value %d is %g, want %g", i, j, got, w)
			}
		}
	}
	return nil
}

// readTensors reads a test's n input or output tensors.
func readTensors(dir, kind string, n int) ([]*onnx.Tensor, error) {
	ts := make([]*onnx.Tensor, n)
	for i := range ts {
		b, err := os.ReadFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("%s_%d.pb", kind, i)))
		if err != nil {
			return nil, err
		}
		if _, ts[i], err = onnx.DecodeTensor(b); err != nil {
			return nil, fmt.Errorf("%s_%d.pb: %w", kind, i, err)
		}
	}
	return ts, nil
}
