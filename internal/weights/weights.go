// Package weights finds model files: a path that exists is used as it is,
// and a bare name is looked up in the weights folder ($TESSERA_WEIGHTS, or
// weights/ in the working directory).
package weights

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultModel is the model the tools use when none is named: small enough
// for a browser, accurate enough for PatchCore.
const DefaultModel = "mobilenetv2-layer3.onnx"

// Dir returns the weights folder: dir if set, else $TESSERA_WEIGHTS, else
// "weights".
func Dir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv("TESSERA_WEIGHTS"); d != "" {
		return d
	}
	return "weights"
}

// Resolve returns the path of model name, looked up as a path first and
// then inside dir (see Dir).
func Resolve(name, dir string) (string, error) {
	if name == "" {
		name = DefaultModel
	}
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	d := Dir(dir)
	p := filepath.Join(d, name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if !strings.HasSuffix(name, ".onnx") {
		if p2 := p + ".onnx"; exists(p2) {
			return p2, nil
		}
	}
	avail := List(d)
	hint := "none there; see weights/README.md to fetch or export one, or set TESSERA_WEIGHTS"
	if len(avail) > 0 {
		hint = "available: " + strings.Join(avail, ", ")
	}
	return "", fmt.Errorf("model %q not found as a file or in %s (%s)", name, d, hint)
}

// List returns the ONNX files in dir, sorted.
func List(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	sort.Strings(m)
	return m
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
