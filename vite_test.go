package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/internal/shared"
)

// TestViteExample installs the packed npm package (make dist, npm pack)
// into a scratch copy of examples/vite, type-checks it against the
// package's declarations, builds it with Vite, serves the
// build and fits and predicts on the hazelnut sample in Chromium: what a
// web developer does, with no file copied out of the package by hand.
func TestViteExample(t *testing.T) {
	needBrowser(t)
	_, err := exec.LookPath("npm")
	need(t, err, "npm")
	_, err = os.Stat(filepath.Join("dist", "package.json"))
	need(t, err, "the npm package (make dist)")

	scratch := t.TempDir()
	npm := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("npm", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm %v: %v\n%s", args, err, out)
		}
	}
	dist, _ := filepath.Abs("dist")
	npm(dist, "pack", "--silent", "--pack-destination", scratch)
	tarballs, _ := filepath.Glob(filepath.Join(scratch, "tessera-patchcore-*.tgz"))
	if len(tarballs) != 1 {
		t.Fatalf("npm pack made %v", tarballs)
	}
	// The app's files, and its Vite version from the example's package.json.
	var example struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	raw, err := os.ReadFile(filepath.Join("examples", "vite", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &example); err != nil || example.DevDependencies["vite"] == "" || example.DevDependencies["typescript"] == "" {
		t.Fatalf("examples/vite/package.json names no vite or typescript: %v", err)
	}
	app := filepath.Join(scratch, "app")
	os.MkdirAll(filepath.Join(app, "public"), 0o755)
	for _, f := range []string{"index.html", "main.ts", "tsconfig.json", "vite.config.js"} {
		copyFile(t, filepath.Join("examples", "vite", f), filepath.Join(app, f))
	}
	copyFile(t, shared.Weights(t, "mobilenetv2-layer3.onnx"), filepath.Join(app, "public", "mobilenetv2-layer3.onnx"))
	os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"scratch-app","private":true,"type":"module"}`), 0o644)
	npm(app, "install", "--ignore-scripts", "--no-audit", "--no-fund", tarballs[0],
		"vite@"+example.DevDependencies["vite"], "typescript@"+example.DevDependencies["typescript"])
	// The app type-checks against the package's declarations, then builds.
	for _, args := range [][]string{{"tsc"}, {"vite", "build"}} {
		cmd := exec.Command("npx", args...)
		cmd.Dir = app
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		t.Logf("%v:\n%s", args, out)
	}
	// The engine is emitted as a file; the SIMD modules (about 4 KiB) are
	// files too, or inlined where they fall under Vite's inline limit.
	wasm, _ := filepath.Glob(filepath.Join(app, "dist", "assets", "*.wasm"))
	engines := 0
	for _, f := range wasm {
		switch name := filepath.Base(f); {
		case strings.HasPrefix(name, "tessera-simd"):
		case strings.HasPrefix(name, "tessera-"):
			engines++
		default:
			t.Errorf("the build emitted %s, which is neither the engine nor a SIMD module", name)
		}
	}
	if engines != 1 {
		t.Fatalf("the build emitted wasm files %v, want the engine once", wasm)
	}

	url := serveHTTP(t, http.FileServer(http.Dir(filepath.Join(app, "dist"))))
	trainList, testList, test := sampleLists(t, scratch, 0)
	out, _ := filepath.Abs(filepath.Join("out", "e2e"))
	os.MkdirAll(out, 0o755)
	var r struct {
		Error     string   `json:"error"`
		Engine    string   `json:"engine"`
		FitStatus string   `json:"fitStatus"`
		Logs      []string `json:"logs"`
		Results   []struct {
			Text      string  `json:"text"`
			Score     float64 `json:"score"`
			Anomalous bool    `json:"anomalous"`
		} `json:"results"`
	}
	runNode(t, &r, "vite.mjs", url, trainList, testList, filepath.Join(out, "vite-example.png"))
	if r.Error != "" {
		t.Fatalf("in the Vite app: %s\nlogs: %v", r.Error, r.Logs)
	}
	t.Logf("Vite app on %s: %s; %d results", r.Engine, r.FitStatus, len(r.Results))
	if len(r.Results) != len(test) {
		t.Fatalf("%d results for %d images", len(r.Results), len(test))
	}
	scores := make([]float32, len(test))
	labels := make([]bool, len(test))
	for i, res := range r.Results {
		scores[i], labels[i] = float32(res.Score), test[i].Label
	}
	checkAUROC(t, "in the Vite app", scores, labels)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
