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

// NewExtractor loads an ONNX model from its bytes onto device dev; name
// is how banks and messages refer to it.
func NewExtractor(model []byte, name string, opts backbone.Options, prep imageprep.Config, dev *compute.Device) (*Extractor, error) {
	sum, err := bank.ModelHash(bytes.NewReader(model))
	if err != nil {
		return nil, err
	}
	return newExtractor(model, sum, name, opts, prep, dev)
}

// newExtractor is NewExtractor for a model whose SHA-256 is known.
func newExtractor(model []byte, sum, name string, opts backbone.Options, prep imageprep.Config, dev *compute.Device) (*Extractor, error) {
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
	e, err := m.NewExecutorOn(dev)
	if err != nil {
		return nil, err
	}
	return &Extractor{Exec: e, Prep: prep, ModelSHA256: sum, ModelName: name}, nil
}

// LoadExtractor is NewExtractor for a model file.
func LoadExtractor(path string, opts backbone.Options, prep imageprep.Config, dev *compute.Device) (*Extractor, error) {
	return LoadExtractorFor(path, "", opts, prep, dev)
}

// LoadExtractorFor is LoadExtractor for the model a bank names: the file's
// SHA-256 is computed while it is read and must be wantSHA256 (when not
// empty), so a different or tampered file is refused before it is decoded.
func LoadExtractorFor(path, wantSHA256 string, opts backbone.Options, prep imageprep.Config, dev *compute.Device) (*Extractor, error) {
	model, sum, err := readModel(path)
	if err != nil {
		return nil, fmt.Errorf("patchcore: %w", err)
	}
	if wantSHA256 != "" && sum != wantSHA256 {
		return nil, fmt.Errorf("patchcore: model %s has sha256 %.12s, the bank was made with a model of sha256 %.12s", path, sum, wantSHA256)
	}
	return newExtractor(model, sum, filepath.Base(path), opts, prep, dev)
}

// maxModelBytes is the protobuf format's own limit on a message.
const maxModelBytes = 2 << 30

// readModel reads a model file, a regular file (not a device or a FIFO,
// which would never end) of at most maxModelBytes, and its SHA-256.
func readModel(path string) (_ []byte, sha string, _ error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("model %s is not a regular file", path)
	}
	if st.Size() > maxModelBytes {
		return nil, "", fmt.Errorf("model %s: %d bytes is over the limit of %d", path, st.Size(), int64(maxModelBytes))
	}
	// One pass: the bytes are kept as the bank's model hash reads them.
	var buf bytes.Buffer
	buf.Grow(int(st.Size()))
	sum, err := bank.ModelHash(io.TeeReader(io.LimitReader(f, maxModelBytes+1), &buf))
	if err != nil {
		return nil, "", err
	}
	if buf.Len() > maxModelBytes {
		return nil, "", fmt.Errorf("model %s grew past %d bytes while read", path, int64(maxModelBytes))
	}
	return buf.Bytes(), sum, nil
}
