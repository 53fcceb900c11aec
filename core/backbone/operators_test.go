package backbone_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/onnx"
	"github.com/tessera/tessera/internal/golden"
	ot "github.com/tessera/tessera/internal/onnxtest"
	"github.com/tessera/tessera/internal/ortref"
)

func randn(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func pos(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 0.5 + r.Float32()
	}
	return s
}

// bn returns the four batch-norm parameter tensors for c channels.
func bn(r *rand.Rand, prefix string, c int64) ([]ot.Tensor, []string) {
	names := []string{prefix + "_g", prefix + "_b", prefix + "_m", prefix + "_v"}
	return []ot.Tensor{
		{Name: names[0], Dims: []int64{c}, Float: pos(r, int(c))},
		{Name: names[1], Dims: []int64{c}, Float: randn(r, int(c))},
		{Name: names[2], Dims: []int64{c}, Float: randn(r, int(c))},
		{Name: names[3], Dims: []int64{c}, Float: pos(r, int(c))},
	}, names
}

func node(op string, in []string, out string, attrs ...ot.Attr) ot.Node {
	return ot.Node{Op: op, Inputs: in, Outputs: []string{out}, Attrs: attrs}
}

// operatorModels covers every supported operator and its attribute forms.
func operatorModels(r *rand.Rand) map[string]ot.Model {
	in := []ot.Value{{Name: "x", Shape: []int64{-1, 4, 16, 16}}}
	models := map[string]ot.Model{}

	bnT, bnN := bn(r, "bn", 8)
	models["conv_bn_relu_maxpool"] = ot.Model{
		Inputs: in, Outputs: []ot.Value{{Name: "y"}},
		Nodes: []ot.Node{
			node("Conv", []string{"x", "w", "b"}, "c", ot.Ints("kernel_shape", 3, 3), ot.Ints("strides", 2, 2), ot.Ints("pads", 1, 1, 1, 1)),
			node("BatchNormalization", append([]string{"c"}, bnN...), "n", ot.Float("epsilon", 1e-3)),
			node("Relu", []string{"n"}, "a"),
			node("MaxPool", []string{"a"}, "y", ot.Ints("kernel_shape", 3, 3), ot.Ints("strides", 2, 2), ot.Ints("pads", 1, 1, 1, 1)),
		},
		Inits: append(bnT,
			ot.Tensor{Name: "w", Dims: []int64{8, 4, 3, 3}, Float: randn(r, 8*4*9)},
			ot.Tensor{Name: "b", Dims: []int64{8}, Float: randn(r, 8)}),
	}

	bn2T, bn2N := bn(r, "pre", 4)
	models["unfoldable_bn_grouped_dilated_asym"] = ot.Model{
		Inputs: in, Outputs: []ot.Value{{Name: "y"}, {Name: "n"}},
		Nodes: []ot.Node{
			// A batch norm on the input cannot fold into a convolution, and
			// n is also a graph output, so the ReLU must not be fused away.
			node("BatchNormalization", append([]string{"x"}, bn2N...), "n"),
			node("Relu", []string{"n"}, "a"),
			node("Conv", []string{"a", "w"}, "y", ot.Int("group", 2), ot.Ints("dilations", 2, 2), ot.Ints("pads", 0, 1, 2, 1)),
		},
		Inits: append(bn2T, ot.Tensor{Name: "w", Dims: []int64{6, 2, 3, 3}, Float: randn(r, 6*2*9)}),
	}

	models["depthwise_same_upper_clip_inputs"] = ot.Model{
		Inputs: in, Outputs: []ot.Value{{Name: "y"}},
		Nodes: []ot.Node{
			node("Conv", []string{"x", "w", "b"}, "c", ot.Int("group", 4), ot.String("auto_pad", "SAME_UPPER"), ot.Ints("strides", 2, 2), ot.Ints("kernel_shape", 3, 3)),
			node("Clip", []string{"c", "lo", "hi"}, "y"),
		},
		Inits: []ot.Tensor{
			{Name: "w", Dims: []int64{4, 1, 3, 3}, Float: randn(r, 36)},
			{Name: "b", Dims: []int64{4}, Float: randn(r, 4)},
			{Name: "lo", Float: []float32{-0.5}},
			{Name: "hi", Float: []float32{1.5}},
		},
	}

	models["clip_attributes_opset9"] = ot.Model{
		Opset: 9, Inputs: in, Outputs: []ot.Value{{Name: "y"}},
		Nodes: []ot.Node{node("Clip", []string{"x"}, "y", ot.Float("min", -0.25), ot.Float("max", 0.75))},
	}

	models["avgpool_concat_sigmoid_mul_add"] = ot.Model{
		Inputs: in, Outputs: []ot.Value{{Name: "y"}},
		Nodes: []ot.Node{
			node("AveragePool", []string{"x"}, "p0", ot.Ints("kernel_shape", 3, 3), ot.Ints("pads", 1, 1, 1, 1)),
			node("AveragePool", []string{"x"}, "p1", ot.Ints("kernel_shape", 3, 3), ot.Ints("pads", 1, 1, 1, 1), ot.Int("count_include_pad", 1)),
			node("Concat", []string{"p0", "p1", "x"}, "cat", ot.Int("axis", 1)),
			node("Sigmoid", []string{"cat"}, "s"),
			node("Mul", []string{"cat", "s"}, "silu"), // SiLU as exported by PyTorch
			node("Add", []string{"silu", "shift"}, "y"),
		},
		Inits: []ot.Tensor{{Name: "shift", Dims: []int64{1, 12, 1, 1}, Float: randn(r, 12)}},
	}

	models["avgpool_ceil_identity"] = ot.Model{
		Inputs: in, Outputs: []ot.Value{{Name: "y"}},
		Nodes: []ot.Node{
			node("AveragePool", []string{"x"}, "p", ot.Ints("kernel_shape", 3, 3), ot.Ints("strides", 2, 2), ot.Int("ceil_mode", 1)),
			node("Identity", []string{"p"}, "y"),
		},
	}

	models["classifier_head"] = ot.Model{
		Inputs: in, Outputs: []ot.Value{{Name: "y"}, {Name: "r"}},
		Nodes: []ot.Node{
			node("GlobalAveragePool", []string{"x"}, "g"),
			node("Flatten", []string{"g"}, "f"),
			node("Gemm", []string{"f", "w", "b"}, "y", ot.Int("transB", 1), ot.Float("alpha", 0.5), ot.Float("beta", 2)),
			node("Reshape", []string{"x", "shape"}, "r"),
		},
		Inits: []ot.Tensor{
			{Name: "w", Dims: []int64{5, 4}, Float: randn(r, 20)},
			{Name: "b", Dims: []int64{5}, Float: randn(r, 5)},
			{Name: "shape", Dims: []int64{3}, Int64: []int64{0, 4, -1}},
		},
	}
	// The same tensor twice (x*x) and an omitted optional input between
	// given ones (Clip's min): node inputs as the file lists them, not as
	// onnx-go's graph edges keep them.
	models["square_clip_max_only"] = ot.Model{
		Inputs: in, Outputs: []ot.Value{{Name: "y"}},
		Nodes: []ot.Node{
			node("Mul", []string{"x", "x"}, "sq"),
			node("Clip", []string{"sq", "", "hi"}, "y"),
		},
		Inits: []ot.Tensor{{Name: "hi", Float: []float32{2}}},
	}
	return models
}

// TestOperatorsMatchONNXRuntime runs each small model in Tessera and in
// ONNX Runtime and compares every output.
func TestOperatorsMatchONNXRuntime(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for name, m := range operatorModels(r) {
		t.Run(name, func(t *testing.T) {
			var outs []string
			for _, o := range m.Outputs {
				outs = append(outs, o.Name)
			}
			g, err := onnx.Decode(m.Encode())
			if err != nil {
				t.Fatal(err)
			}
			model, err := backbone.Load(g, backbone.Options{Layers: outs, Height: 16, Width: 16})
			if err != nil {
				t.Fatal(err)
			}
			e, err := model.NewExecutor(cpu.New(2))
			if err != nil {
				t.Fatal(err)
			}
			shape := []int{2, 4, 16, 16}
			x := randn(r, 2*4*16*16)
			got, err := e.Run(x, shape)
			if err != nil {
				t.Fatal(err)
			}
			want := ortref.Run(t, m.Encode(), x, shape, outs...)
			for _, f := range got {
				w := want[f.Name]
				if fmt.Sprint(f.Shape) != fmt.Sprint(w.Shape) {
					t.Fatalf("%s: shape %v, ONNX Runtime %v", f.Name, f.Shape, w.Shape)
				}
				if e := golden.RelL2(f.Data, w.Data); e > 1e-5 {
					t.Errorf("%s: relative L2 error %.2e against ONNX Runtime", f.Name, e)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	good := operatorModels(r)["conv_bn_relu_maxpool"]
	enc := good.Encode()
	unsupported := good
	unsupported.Nodes = append(append([]ot.Node(nil), good.Nodes...), node("Softmax", []string{"y"}, "z"))
	unsupported.Outputs = []ot.Value{{Name: "z"}}

	cases := []struct {
		name  string
		bytes []byte
		opts  backbone.Options
		want  string
	}{
		{"empty file", nil, backbone.Options{}, "empty model"},
		{"garbage", []byte("this is not a protobuf at all, it is text"), backbone.Options{}, "not a valid ONNX model"},
		{"truncated", enc[:len(enc)*2/3], backbone.Options{}, "ONNX model"},
		{"unsupported operator", unsupported.Encode(), backbone.Options{}, `node "z" uses operator Softmax`},
		{"unknown layer", enc, backbone.Options{Layers: []string{"layer9"}}, `no node produces a tensor named "layer9"`},
		{"unread attribute", withAttr(good, 3, ot.Int("broadcast", 1)), backbone.Options{}, `node "y" (MaxPool): attribute "broadcast" is not supported`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := onnx.Decode(tc.bytes)
			if err == nil {
				_, err = backbone.Load(g, tc.opts)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}

	// An unsupported operator after the requested layers does not matter.
	g, err := onnx.Decode(unsupported.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backbone.Load(g, backbone.Options{Layers: []string{"y"}, Height: 16, Width: 16}); err != nil {
		t.Errorf("unsupported operator outside the needed subgraph: %v", err)
	}
}

// withAttr returns m's encoding with attribute a added to node i.
func withAttr(m ot.Model, i int, a ot.Attr) []byte {
	m.Nodes = slices.Clone(m.Nodes)
	m.Nodes[i].Attrs = append(slices.Clone(m.Nodes[i].Attrs), a)
	return m.Encode()
}

func TestRunInputErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	g, err := onnx.Decode(operatorModels(r)["conv_bn_relu_maxpool"].Encode())
	if err != nil {
		t.Fatal(err)
	}
	m, err := backbone.Load(g, backbone.Options{Height: 16, Width: 16})
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.NewExecutor(cpu.New(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		shape []int
		n     int
		want  string
	}{
		{[]int{1, 3, 16, 16}, 3 * 256, "input has 3 channels, the model expects 4"},
		{[]int{1, 4, 20, 16}, 4 * 320, "input is 20x16, the model was loaded for 16x16"},
		{[]int{4, 16, 16}, 4 * 256, "want N x 4 x 16 x 16"},
		{[]int{1, 4, 16, 16}, 10, "input has 10 values"},
	} {
		_, err := e.Run(make([]float32, tc.n), tc.shape)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("shape %v: error %v, want it to mention %q", tc.shape, err, tc.want)
		}
	}

	// A constant Concat operand made for a batch of one, run at two.
	cat := ot.Model{
		Inputs: []ot.Value{{Name: "x", Shape: []int64{-1, 4, 16, 16}}}, Outputs: []ot.Value{{Name: "y"}},
		Nodes: []ot.Node{node("Concat", []string{"x", "k"}, "y", ot.Int("axis", 1))},
		Inits: []ot.Tensor{{Name: "k", Dims: []int64{1, 2, 16, 16}, Float: randn(r, 2*256)}},
	}
	if g, err = onnx.Decode(cat.Encode()); err != nil {
		t.Fatal(err)
	}
	if m, err = backbone.Load(g, backbone.Options{Height: 16, Width: 16}); err != nil {
		t.Fatal(err)
	}
	if e, err = m.NewExecutor(cpu.New(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(make([]float32, 4*256), []int{1, 4, 16, 16}); err != nil {
		t.Errorf("concat at batch 1: %v", err)
	}
	if _, err := e.Run(make([]float32, 2*4*256), []int{2, 4, 16, 16}); err == nil || !strings.Contains(err.Error(), "cannot be concatenated") {
		t.Errorf("concat at batch 2: error %v, want a shape mismatch", err)
	}
}
