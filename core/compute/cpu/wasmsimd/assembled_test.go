//go:build !js

package wasmsimd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAssembled proves the committed modules are their source: gen.go
// writes the committed .wat files, and wabt's wat2wasm assembles each into
// the committed .wasm byte for byte. Without wat2wasm it skips, except
// under CI=true (.ci/run installs wabt).
func TestAssembled(t *testing.T) {
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("wat2wasm (Debian's wabt) is missing under CI")
		}
		t.Skip("wat2wasm (Debian's wabt) not installed")
	}
	dir := t.TempDir()
	gen := exec.Command("go", "run", filepath.Join(mustAbs(t, "gen.go")))
	gen.Dir = dir
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	for _, name := range []string{"kernels", "kernels_relaxed"} {
		wat, err := os.ReadFile(filepath.Join(dir, name+".wat"))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(name + ".wat")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wat, committed) {
			t.Errorf("%s.wat is not what gen.go writes: run make wasmsimd", name)
		}
		out := filepath.Join(dir, name+".wasm")
		if msg, err := exec.Command(wat2wasm, "--enable-relaxed-simd", name+".wat", "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm %s.wat: %v\n%s", name, err, msg)
		}
		built, _ := os.ReadFile(out)
		shipped, err := os.ReadFile(name + ".wasm")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, shipped) {
			t.Errorf("%s.wasm does not match wat2wasm's assembly of %s.wat: run make wasmsimd", name, name)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
