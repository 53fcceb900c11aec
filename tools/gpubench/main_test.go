//go:build cgo

package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/compute/webgpu"
	"github.com/tessera/tessera/internal/shared"
)

// TestQuickRun runs the benchmark's quick mode on whatever adapter there
// is (lavapipe in CI) and checks what it wrote: the golden outputs where
// ../shared has ResNet-50 v2, GEMM and search results that agree with the
// CPU, and an eval of the sample set with the CPU's scores.
func TestQuickRun(t *testing.T) {
	g, err := webgpu.New(webgpu.Options{AllowCPUAdapter: true})
	if errors.Is(err, webgpu.ErrNoAdapter) && os.Getenv("TESSERA_REQUIRE_WEBGPU") != "1" {
		t.Skipf("no WebGPU adapter: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	out := t.TempDir()
	t.Chdir(shared.Repo())
	parts, weights := "gemm,search,eval", ""
	if _, err := os.Stat(filepath.Join(shared.Root(), "weights", "resnet50v2-layer3.onnx")); err == nil || os.Getenv("CI") == "true" {
		parts, weights = "golden,"+parts, filepath.Join(shared.Root(), "weights")
	}
	err = run([]string{"--allow-software", "--quick", "--parts", parts, "--weights", weights, "--out", out,
		"--data", "site/sample", "--eval-model", "mobilenetv2-layer3.onnx", "--eval-test", "6", "--batches", "2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	b, err := os.ReadFile(filepath.Join(out, "gpubench.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(parts, "golden") && len(rep.Golden) != 4 {
		t.Errorf("%d golden feature maps checked, want 4 (two per model)", len(rep.Golden))
	}
	if len(rep.GEMM) != 6 || len(rep.Search) != 2 || len(rep.Eval) != 2 || len(rep.Failures) != 0 {
		t.Fatalf("report has %d GEMM, %d search and %d eval rows and failures %q", len(rep.GEMM), len(rep.Search), len(rep.Eval), rep.Failures)
	}
	for _, e := range rep.Eval {
		if e.TestImages != 6 || e.FitSeconds <= 0 || e.PredictMS <= 0 || e.BankVectors <= 0 {
			t.Errorf("eval row %+v", e)
		}
	}
}

// TestRefusesBadFlags: flag mistakes are errors naming the flag, before
// any device is opened.
func TestRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--parts", "golden,speed"}, `unknown part "speed"`},
		{[]string{"--batches", "1,0"}, `--batches: "0" is not a positive whole number`},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		err := run(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
	}
}
