//go:build cgo

// Command gpubench measures the WebGPU backend on the machine it runs on,
// beside the CPU backend there: it checks the golden outputs through
// WebGPU, times matrix products, both shared backbones at several batch
// sizes (and how often kernels are submitted), the nearest-neighbour
// search on a 50k-vector bank, and a fit and predict of an MVTec
// category. It is built for a few minutes on a GPU server
// (tools/gpubench/run.sh); every figure goes to one JSON file.
//
//	gpubench --weights ../shared/weights --data ../shared/data/mvtec-ad-256/bottle --out out/gpubench
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tessera/tessera/core/compute/webgpu"
)

// Report is everything one run measured.
type Report struct {
	Started  time.Time       `json:"started"`
	Adapter  string          `json:"adapter"`
	Software bool            `json:"software_adapter"`
	CPU      string          `json:"cpu_backend"`
	Golden   []GoldenResult  `json:"golden,omitempty"`
	GEMM     []GEMMResult    `json:"gemm,omitempty"`
	Backbone []BackboneRow   `json:"backbone,omitempty"`
	Submit   []SubmitRow     `json:"submit_every,omitempty"`
	Search   []SearchResult  `json:"search,omitempty"`
	Eval     []EvalResult    `json:"eval,omitempty"`
	Failures []string        `json:"failures,omitempty"`
	Seconds  float64         `json:"seconds"`
	Settings map[string]any  `json:"settings"`
	log      io.Writer       `json:"-"`
	started  time.Time       `json:"-"`
	gpu      *webgpu.Backend `json:"-"`
}

func (r *Report) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "[%6.1fs] ", time.Since(r.started).Seconds())
	fmt.Fprintf(r.log, format+"\n", args...)
}

// fail records a check that did not pass; the run goes on, and the
// command exits non-zero at the end.
func (r *Report) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Failures = append(r.Failures, msg)
	r.logf("FAIL %s", msg)
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gpubench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gpubench", flag.ContinueOnError)
	weights := fs.String("weights", "", "folder with resnet50v2-layer3.onnx, mobilenetv2-layer3.onnx and golden/ (the shared weights' layout); the repository's weights/ and golden copies fill in what it lacks")
	data := fs.String("data", "", "an MVTec category to fit and predict on WebGPU and on the CPU (none: no eval)")
	out := fs.String("out", "out/gpubench", "folder for gpubench.json")
	parts := fs.String("parts", "golden,gemm,backbone,submit,search,eval", "what to measure")
	software := fs.Bool("allow-software", false, "accept a software adapter (lavapipe): for checking the script, not for figures")
	quick := fs.Bool("quick", false, "fewer runs and smaller work, for a software adapter")
	evalModel := fs.String("eval-model", "resnet50v2-layer3.onnx", "the model of the eval")
	evalTrain := fs.Int("eval-train", 0, "use only the first N training images in the eval (0: all)")
	evalTest := fs.Int("eval-test", 0, "use only N test images in the eval, evenly spread over the set (0: all)")
	batches := fs.String("batches", "1,8,32", "backbone batch sizes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	bs, err := intList(*batches)
	if err != nil {
		return fmt.Errorf("--batches: %w", err)
	}
	want := map[string]bool{}
	for _, p := range strings.Split(*parts, ",") {
		switch p = strings.TrimSpace(p); p {
		case "golden", "gemm", "backbone", "submit", "search", "eval":
			want[p] = true
		case "":
		default:
			return fmt.Errorf("--parts: unknown part %q", p)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	rep := &Report{Started: time.Now().UTC(), started: time.Now(), log: stdout, Settings: map[string]any{
		"weights": *weights, "data": *data, "parts": *parts, "quick": *quick, "batches": bs, "eval_model": *evalModel, "eval_train": *evalTrain, "eval_test": *evalTest,
	}}
	g, err := webgpu.New(webgpu.Options{AllowCPUAdapter: *software})
	if err != nil {
		return fmt.Errorf("no GPU adapter (is the Vulkan loader installed and the driver's ICD found?): %w", err)
	}
	defer g.Close()
	rep.gpu = g
	rep.Adapter = g.Name()
	rep.Software = strings.Contains(rep.Adapter, "cpu adapter")
	rep.logf("adapter: %s", rep.Adapter)
	if rep.Software && !*software {
		return errors.New("only a software adapter")
	}
	w := weightFiles{dir: *weights}
	steps := []struct {
		part string
		run  func() error
	}{
		{"golden", func() error { return rep.golden(w) }},
		{"gemm", func() error { return rep.gemm(*quick) }},
		{"backbone", func() error { return rep.backbones(w, bs, *quick) }},
		{"submit", func() error { return rep.submitEvery(w, *quick) }},
		{"search", func() error { return rep.search(*quick) }},
		{"eval", func() error {
			if *data == "" {
				rep.logf("eval: no --data, skipped")
				return nil
			}
			return rep.eval(w, *evalModel, *data, *evalTrain, *evalTest, max(bs[len(bs)-1], 1))
		}},
	}
	for _, s := range steps {
		if !want[s.part] {
			continue
		}
		if err := s.run(); err != nil {
			rep.fail("%s: %v", s.part, err)
		}
		if err := rep.write(*out); err != nil {
			return err
		}
	}
	rep.Seconds = time.Since(rep.started).Seconds()
	if err := rep.write(*out); err != nil {
		return err
	}
	rep.logf("wrote %s", filepath.Join(*out, "gpubench.json"))
	if len(rep.Failures) > 0 {
		return fmt.Errorf("%d checks failed: %s", len(rep.Failures), strings.Join(rep.Failures, "; "))
	}
	return nil
}

// write saves the report so far, so that a run cut short keeps what it
// measured.
func (r *Report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "gpubench.json"), append(b, '\n'), 0o644)
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var v int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &v); err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty")
	}
	return out, nil
}
