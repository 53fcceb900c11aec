package backbone_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/onnx"
)

// FuzzLoad: no model file makes decoding, loading (shape inference,
// planning) or a forward pass panic; each either works or says why not.
func FuzzLoad(f *testing.F) {
	for _, m := range operatorModels(rand.New(rand.NewPCG(1, 2))) {
		f.Add(m.Encode())
	}
	be := cpu.New(1)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := onnx.Decode(data)
		if err != nil {
			return
		}
		m, err := backbone.Load(g, backbone.Options{Height: 16, Width: 16})
		if err != nil {
			return
		}
		e, err := m.NewExecutor(be)
		if err != nil {
			return
		}
		c, h, w := m.InputShape()
		if c*h*w > 1<<16 {
			return
		}
		e.Run(make([]float32, c*h*w), []int{1, c, h, w})
	})
}
