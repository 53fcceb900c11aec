package bank

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore/embed"
)

func sample() *Bank {
	return &Bank{
		Header: Header{ModelSHA256: "abc", ModelName: "m.onnx", Layers: []string{"layer2", "layer3"},
			Prep: imageprep.ImageNet(), Embed: embed.Default(), GridH: 2, GridW: 2, K: 1, Sigma: 4,
			Threshold: 1.5, N: 2, D: 3},
		Vectors: []float32{1, 2, 3, 4, 5, 6},
	}
}

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.tbank")
	if err := sample().WriteFile(p); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if b.ModelSHA256 != "abc" || b.Threshold != 1.5 || b.Prep != imageprep.ImageNet() || len(b.Vectors) != 6 || b.Vectors[5] != 6 {
		t.Errorf("round trip lost data: %+v", b)
	}
}

func TestCorruptFiles(t *testing.T) {
	data, _ := sample().Encode()
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x40
	v2 := append([]byte(nil), data...)
	v2[8] = 2
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"truncated":   {data[:len(data)-10], "checksum"},
		"bit flip":    {flipped, "checksum"},
		"not a bank":  {[]byte("PK\x03\x04 a zip file, say, long enough to pass the size check........"), "not a Tessera bank"},
		"new version": {v2, "format version 2"},
		"empty":       {nil, "not a Tessera bank"},
	} {
		if _, err := Decode(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestFailedWriteKeepsOldBank(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tbank")
	if err := sample().WriteFile(p); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	bad := sample()
	bad.N = 5 // inconsistent: fails before anything is written
	if err := bad.WriteFile(p); err == nil {
		t.Fatal("inconsistent bank written")
	}
	after, _ := os.ReadFile(p)
	if string(before) != string(after) {
		t.Error("a failed write changed the existing bank")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
