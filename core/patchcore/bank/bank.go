// Package bank is PatchCore's memory bank file: the chosen patch vectors
// plus everything needed to use them again (which model, which layers, how
// images are prepared, the embedding sizes, the decision threshold).
//
// Layout, little-endian:
//
//	"TESSBANK"            8 bytes
//	version               uint32 (1; 2 when the vectors are f16; 3 when the
//	                      preparation keeps the whole image, either precision)
//	header length         uint32
//	header                JSON (Header)
//	vectors               N*D float32, or IEEE half with precision "f16"
//	SHA-256               32 bytes, of everything before it
//
// The browser build reads and writes the same bytes.
package bank

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/tessera/tessera/core/compute/cpu/vec"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore/coreset"
	"github.com/tessera/tessera/core/patchcore/embed"
)

const (
	magic = "TESSBANK"
	// version is 1 for float32 vectors, which every build reads, and 2 for
	// half precision, so that a build without it refuses the file by name.
	version     = 1
	versionHalf = 2
	// versionFrame is a bank whose images are prepared whole (imageprep's
	// FitPad or FitStretch): a build that would crop them refuses it.
	versionFrame = 3
)

// Header describes a bank. The file spells it as fileHeader does, whatever
// the json tags here (kept for callers that show a header as JSON) say.
type Header struct {
	// Model identifies the backbone: SHA-256 of the ONNX file's bytes.
	ModelSHA256 string           `json:"model_sha256"`
	ModelName   string           `json:"model_name"`
	Layers      []string         `json:"layers"`
	LayerShapes [][]int          `json:"layer_shapes"` // C, H, W per layer
	Prep        imageprep.Config `json:"preprocessing"`
	Embed       embed.Config     `json:"embedding"`
	Coreset     coreset.Config   `json:"coreset"`
	GridH       int              `json:"grid_h"` // patch grid of one image
	GridW       int              `json:"grid_w"`
	K           int              `json:"k"`     // neighbours averaged per patch score
	Sigma       float64          `json:"sigma"` // anomaly map blur
	Threshold   float64          `json:"threshold"`
	// ThresholdRule says how Threshold was chosen.
	ThresholdRule string    `json:"threshold_rule"`
	HoldoutScores []float64 `json:"holdout_scores,omitempty"`
	TrainImages   int       `json:"train_images"`
	TrainPatches  int       `json:"train_patches"`
	N             int       `json:"n"` // vectors in the bank
	D             int       `json:"d"` // values per vector
	// Precision is how the file stores the vectors: F32 (or empty) or F16.
	Precision string `json:"precision,omitempty"`
	Created   string `json:"created"`
}

// Limits on what a header may declare; real banks are far inside them.
const (
	maxDim   = 1 << 16 // values per vector
	maxGrid  = 1 << 12 // patches along a side
	maxSigma = 256     // pixels of blur
)

// Validate checks a header as a freshly configured fit would be checked,
// so that a bank from outside cannot make scoring panic, hang or score
// silently wrong. Errors name the field.
func (h *Header) Validate() error {
	if err := h.Prep.Validate(); err != nil {
		return fmt.Errorf("bank: preprocessing: %w", err)
	}
	if err := h.Embed.Validate(); err != nil {
		return fmt.Errorf("bank: embedding: %w", err)
	}
	switch {
	case h.ModelName == "" || filepath.Base(h.ModelName) != h.ModelName || h.ModelName == "." || h.ModelName == "..":
		return fmt.Errorf("bank: model_name %q is not a file name", h.ModelName)
	case h.D != h.Embed.TargetDim:
		return fmt.Errorf("bank: d = %d, but the embedding's target dimension is %d", h.D, h.Embed.TargetDim)
	case h.GridH < 1 || h.GridW < 1 || h.GridH > maxGrid || h.GridW > maxGrid:
		return fmt.Errorf("bank: patch grid %dx%d out of range", h.GridH, h.GridW)
	case h.N < 1:
		return errors.New("bank: n = 0: the bank holds no vectors")
	case h.K < 1 || h.K > h.N:
		return fmt.Errorf("bank: k = %d neighbours, want 1 to n = %d", h.K, h.N)
	case math.IsNaN(h.Sigma) || h.Sigma < 0 || h.Sigma > maxSigma:
		return fmt.Errorf("bank: sigma %g out of range [0, %d]", h.Sigma, maxSigma)
	case math.IsNaN(h.Threshold) || math.IsInf(h.Threshold, 0) || h.Threshold < 0:
		return fmt.Errorf("bank: threshold %g is not a finite, non-negative score", h.Threshold)
	case len(h.Layers) == 0 || len(h.LayerShapes) != len(h.Layers):
		return fmt.Errorf("bank: %d layers with %d shapes", len(h.Layers), len(h.LayerShapes))
	}
	for i, s := range h.LayerShapes {
		if len(s) != 3 || s[0] < 1 || s[1] < 1 || s[2] < 1 || s[0] > maxDim || s[1] > maxGrid || s[2] > maxGrid {
			return fmt.Errorf("bank: layer %q has shape %v, want C, H, W in range", h.Layers[i], s)
		}
	}
	return nil
}

// Bank is a header and its vectors (N x D, row-major): as float32 in
// Vectors, or, for a bank of precision F16, as halves in Half (half the
// memory; the search converts each row it reads). One of the two is set.
type Bank struct {
	Header
	Vectors []float32
	Half    []uint16
}

// Float32 returns the vectors as float32: Vectors, or Half converted into
// a new slice (for a caller that needs all of them at once, as brute force
// and a GPU upload do).
func (b *Bank) Float32() []float32 {
	if b.Half == nil {
		return b.Vectors
	}
	v := make([]float32, len(b.Half))
	vec.HalfToFloat(v, b.Half)
	return v
}

// Encode returns the bank's file bytes.
func (b *Bank) Encode() ([]byte, error) {
	if n := max(len(b.Vectors), len(b.Half)); n != b.N*b.D || b.Vectors != nil && b.Half != nil {
		return nil, fmt.Errorf("bank: %d values for %d x %d", n, b.N, b.D)
	}
	prec, err := ParsePrecision(b.Precision)
	if err != nil {
		return nil, err
	}
	fh := toFile(&b.Header)
	hdr, err := json.Marshal(&fh)
	if err != nil {
		return nil, fmt.Errorf("bank: %w", err)
	}
	size, ver := 4, uint32(version)
	if prec == F16 {
		size, ver = 2, versionHalf
	}
	if b.Prep.Fit != imageprep.FitCrop {
		ver = versionFrame
	}
	var buf bytes.Buffer
	buf.Grow(16 + len(hdr) + size*b.N*b.D + sha256.Size)
	buf.WriteString(magic)
	binary.Write(&buf, binary.LittleEndian, ver)
	binary.Write(&buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	raw := make([]byte, size*b.N*b.D)
	if b.Half != nil && prec != F16 {
		return nil, fmt.Errorf("bank: half-precision vectors in a bank of precision %q", b.Precision)
	}
	for i, h := range b.Half {
		binary.LittleEndian.PutUint16(raw[2*i:], h)
	}
	for i, v := range b.Vectors {
		if prec == F16 {
			h := toHalf(v)
			if vec.FromHalf(h) != v {
				return nil, fmt.Errorf("bank: value %g at %d is not a half-precision value (RoundToHalf the vectors first)", v, i)
			}
			binary.LittleEndian.PutUint16(raw[2*i:], h)
			continue
		}
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	buf.Write(raw)
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes(), nil
}

// Decode parses and verifies bank bytes.
func Decode(data []byte) (*Bank, error) {
	if len(data) < 16+sha256.Size || string(data[:8]) != magic {
		return nil, errors.New("bank: not a Tessera bank file")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	ver := binary.LittleEndian.Uint32(data[8:])
	if ver != version && ver != versionHalf && ver != versionFrame {
		return nil, fmt.Errorf("bank: format version %d, this build reads versions %d to %d", ver, version, versionFrame)
	}
	if want := sha256.Sum256(body); !bytes.Equal(sum, want[:]) {
		return nil, errors.New("bank: checksum mismatch (the file is truncated or corrupt)")
	}
	hlen := int(binary.LittleEndian.Uint32(data[12:]))
	if 16+hlen > len(body) {
		return nil, errors.New("bank: header runs past the end of the file")
	}
	var fh fileHeader
	if err := json.Unmarshal(body[16:16+hlen], &fh); err != nil {
		return nil, fmt.Errorf("bank: header: %w", err)
	}
	b := &Bank{Header: fh.header()}
	raw := body[16+hlen:]
	prec, err := ParsePrecision(b.Precision)
	if err != nil {
		return nil, err
	}
	if ver != versionFrame && (prec == F16) != (ver == versionHalf) {
		return nil, fmt.Errorf("bank: format version %d with precision %q", ver, b.Precision)
	}
	if (ver == versionFrame) != (b.Prep.Fit != imageprep.FitCrop) {
		return nil, fmt.Errorf("bank: format version %d with image fit %q", ver, b.Prep.Fit)
	}
	size := 4
	if prec == F16 {
		size = 2
	}
	// N x D from the header is checked by division, so that no product
	// can overflow past the length check.
	if b.N < 0 || b.D <= 0 || b.D > maxDim || len(raw)%(size*b.D) != 0 || b.N != len(raw)/(size*b.D) {
		return nil, fmt.Errorf("bank: %d bytes of vectors for %d x %d %s values", len(raw), b.N, b.D, prec)
	}
	if err := b.Header.Validate(); err != nil {
		return nil, err
	}
	// An f16 bank stays half precision in memory.
	if prec == F16 {
		b.Half = make([]uint16, b.N*b.D)
		for i := range b.Half {
			h := binary.LittleEndian.Uint16(raw[2*i:])
			// A NaN or infinite value would make every score near it NaN.
			if h&0x7c00 == 0x7c00 {
				return nil, fmt.Errorf("bank: value %d of the vectors is %g", i, vec.FromHalf(h))
			}
			b.Half[i] = h
		}
		return b, nil
	}
	b.Vectors = make([]float32, b.N*b.D)
	for i := range b.Vectors {
		v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("bank: value %d of the vectors is %g", i, v)
		}
		b.Vectors[i] = v
	}
	return b, nil
}

// WriteFile writes the bank to a temporary file beside path and renames it
// into place, so an existing bank is never left half-written. The file
// gets the umask's permissions, as any new file; temporary files left by
// an earlier write that crashed are removed first.
func (b *Bank) WriteFile(path string) error {
	data, err := b.Encode()
	if err != nil {
		return err
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	stale, _ := filepath.Glob(filepath.Join(dir, "."+base+".tmp-*"))
	for _, s := range stale {
		os.Remove(s)
	}
	name := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%d-%d", base, os.Getpid(), time.Now().UnixNano()))
	tmp, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("bank: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("bank: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("bank: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("bank: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("bank: %w", err)
	}
	return nil
}

// ReadFile reads and verifies a bank file.
func ReadFile(path string) (*Bank, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bank: %w", err)
	}
	b, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ModelHash is the identity a bank records for a model file's bytes.
func ModelHash(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
