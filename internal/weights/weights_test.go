package weights

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveName: a name from a file is looked up in the weights folder
// only; a path, even one that exists, is refused.
func TestResolveName(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.onnx"), []byte("x"), 0o644)
	if p, err := ResolveName("m.onnx", dir); err != nil || p != filepath.Join(dir, "m.onnx") {
		t.Errorf("m.onnx: %q, %v", p, err)
	}
	for _, name := range []string{"/dev/zero", "../m.onnx", filepath.Join(dir, "m.onnx"), "", ".."} {
		if _, err := ResolveName(name, dir); err == nil || !strings.Contains(err.Error(), "not a file name") {
			t.Errorf("%q: error %v", name, err)
		}
	}
	// Resolve still takes a path the user typed.
	if p, err := Resolve(filepath.Join(dir, "m.onnx"), ""); err != nil || p != filepath.Join(dir, "m.onnx") {
		t.Errorf("a path: %q, %v", p, err)
	}
}
