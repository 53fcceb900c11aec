// Package weights finds model files: a path that exists is used as it is,
// and a bare name is looked up in the weights folder given, or else in
// $TESSERA_WEIGHTS and then weights/ in the working directory (where the
// repository ships the default model).
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

// Dirs returns the folders a bare model name is looked up in: dir alone
// if set, else $TESSERA_WEIGHTS (if set) and then "weights".
func Dirs(dir string) []string {
	if dir != "" {
		return []string{dir}
	}
	if d := os.Getenv("TESSERA_WEIGHTS"); d != "" && filepath.Clean(d) != "weights" {
		return []string{d, "weights"}
	}
	return []string{"weights"}
}

// Resolve returns the path of model name, looked up as a path first and
// then inside the folders of Dirs(dir).
func Resolve(name, dir string) (string, error) {
	if name == "" {
		name = DefaultModel
	}
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	return ResolveName(name, dir)
}

// ResolveName looks model name up in the folders of Dirs(dir) only: for a
// name read from a file (a bank), which must not reach anything else.
func ResolveName(name, dir string) (string, error) {
	if name == "" || filepath.Base(name) != name || name == "." || name == ".." {
		return "", fmt.Errorf("model name %q is not a file name", name)
	}
	dirs := Dirs(dir)
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if exists(p) {
			return p, nil
		}
		if !strings.HasSuffix(name, ".onnx") {
			if p2 := p + ".onnx"; exists(p2) {
				return p2, nil
			}
		}
	}
	var avail []string
	for _, d := range dirs {
		avail = append(avail, List(d)...)
	}
	hint := "none there; see weights/README.md to fetch or export one, or set TESSERA_WEIGHTS"
	if len(avail) > 0 {
		hint = "available: " + strings.Join(avail, ", ")
	}
	return "", fmt.Errorf("model %q not found as a file or in %s (%s)", name, strings.Join(dirs, ", "), hint)
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
