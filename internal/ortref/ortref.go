// Package ortref runs ONNX Runtime (npm onnxruntime-node, through Node) as
// the reference executor in tests.
package ortref

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tessera/tessera/core/npy"
)

// Output is one graph output.
type Output struct {
	Data  []float32
	Shape []int
}

// Run executes an encoded ONNX model on one input with ONNX Runtime and
// returns its outputs by name. Without Node or onnxruntime-node the test is
// skipped, or failed under CI=true, where .ci/run installs both.
func Run(tb testing.TB, model []byte, x []float32, shape []int, outputs ...string) map[string]Output {
	tb.Helper()
	if runtime.GOOS == "js" {
		// No processes under js/wasm; the native run of the same test
		// compares with ONNX Runtime.
		tb.Skip("ONNX Runtime reference: checked by the native test run")
	}
	script := filepath.Join(repoRoot(), "tools", "ortbench", "run.mjs")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(repoRoot(), "tools", "ortbench", "node_modules", "onnxruntime-node"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("ONNX Runtime reference unavailable under CI: %v", err)
		}
		tb.Skipf("ONNX Runtime reference unavailable (npm install --ignore-scripts --prefix tools/ortbench): %v", err)
	}
	dir := tb.TempDir()
	mp, in, out := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "in.npy"), filepath.Join(dir, "out")
	if err := os.WriteFile(mp, model, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := npy.WriteFile(in, x, shape); err != nil {
		tb.Fatal(err)
	}
	if b, err := exec.Command(node, script, mp, in, out).CombinedOutput(); err != nil {
		tb.Fatalf("ONNX Runtime failed: %v\n%s", err, b)
	}
	res := map[string]Output{}
	for _, name := range outputs {
		d, s, err := npy.ReadFile(filepath.Join(out, name+".npy"))
		if err != nil {
			tb.Fatalf("reading ONNX Runtime output %q: %v", name, err)
		}
		res[name] = Output{d, s}
	}
	return res
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
