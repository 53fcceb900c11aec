package patchcore

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/onnx"
	"github.com/tessera/tessera/core/patchcore/bank"
)

// NewExtractor loads an ONNX model from its bytes onto backend b; name is
// how banks and messages refer to it.
func NewExtractor(model []byte, name string, opts backbone.Options, prep imageprep.Config, b compute.Backend) (*Extractor, error) {
	if err := prep.Validate(); err != nil {
		return nil, err
	}
	g, err := onnx.Decode(model)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	m, err := backbone.Load(g, opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	e, err := m.NewExecutor(b)
	if err != nil {
		return nil, err
	}
	sum, err := bank.ModelHash(bytes.NewReader(model))
	if err != nil {
		return nil, err
	}
	return &Extractor{Exec: e, Prep: prep, ModelSHA256: sum, ModelName: name}, nil
}

// LoadExtractor is NewExtractor for a model file.
func LoadExtractor(path string, opts backbone.Options, prep imageprep.Config, b compute.Backend) (*Extractor, error) {
	model, err := readModel(path)
	if err != nil {
		return nil, fmt.Errorf("patchcore: %w", err)
	}
	return NewExtractor(model, filepath.Base(path), opts, prep, b)
}

// maxModelBytes is the protobuf format's own limit on a message.
const maxModelBytes = 2 << 30

// readModel reads a model file: a regular file (not a device or a FIFO,
// which would never end) of at most maxModelBytes.
func readModel(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("model %s is not a regular file", path)
	}
	if st.Size() > maxModelBytes {
		return nil, fmt.Errorf("model %s: %d bytes is over the limit of %d", path, st.Size(), int64(maxModelBytes))
	}
	b, err := io.ReadAll(io.LimitReader(f, maxModelBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxModelBytes {
		return nil, fmt.Errorf("model %s grew past %d bytes while read", path, int64(maxModelBytes))
	}
	return b, nil
}
