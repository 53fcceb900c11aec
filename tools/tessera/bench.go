package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/internal/weights"
)

// benchResult is one model's timing, in milliseconds per image.
type benchResult struct {
	Model     string  `json:"model"`
	Backend   string  `json:"backend"`
	Batch     int     `json:"batch"`
	MedianMS  float64 `json:"median_ms"`
	P10MS     float64 `json:"p10_ms"`
	P90MS     float64 `json:"p90_ms"`
	GFLOPs    float64 `json:"gflop_per_image"`
	GFLOPS    float64 `json:"gflop_per_s"`
	ORTMS     float64 `json:"ort_median_ms,omitempty"`
	Ratio     float64 `json:"ratio_vs_ort,omitempty"`
	ORTStatus string  `json:"ort_status,omitempty"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	var mf modelFlags
	mf.register(fs)
	models := fs.String("models", "", "comma-separated models to time (default: --model)")
	runs := fs.Int("runs", 30, "timed runs per model (after 3 warm-up runs)")
	batch := fs.Int("batch", 1, "images per forward pass (times are per image; ONNX Runtime is timed at batch 1)")
	ort := fs.Bool("ort", true, "also time ONNX Runtime (npm onnxruntime-node in tools/ortbench) on the same file")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	names := splitList(*models)
	if len(names) == 0 {
		names = []string{mf.model}
	}
	var results []benchResult
	fmt.Fprintf(stdout, "%-28s %-24s %6s %10s %10s %9s %10s %8s\n", "model", "backend", "batch", "ms/image", "GFLOP/s", "GFLOP", "ORT ms", "ratio")
	for _, name := range names {
		mf.model = name
		path, err := weights.Resolve(name, mf.weightsDir)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		in, err := inspector.Open(inspector.Model{Path: path}, mf.options(patchcore.SearchAuto))
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		// A device failure mid-run is an error: a figure must come from
		// the backend it is labelled with.
		bt, err := in.BenchBackbone(*runs, *batch)
		in.Close()
		if err != nil {
			return fmt.Errorf("bench: %s: %w", name, err)
		}
		r := benchResult{
			Model: filepath.Base(path), Backend: bt.Backend, Batch: bt.Batch, MedianMS: bt.MedianMS, P10MS: bt.P10MS, P90MS: bt.P90MS,
			GFLOPs: bt.GFLOPs, GFLOPS: bt.GFLOPPerS,
		}
		if *ort {
			c := in.Info().Input
			ms, err := timeORT(path, *runs, []int{1, c[0], c[1], c[2]})
			if err != nil {
				r.ORTStatus = err.Error()
			} else {
				r.ORTMS, r.Ratio = ms, r.MedianMS/ms
			}
		}
		results = append(results, r)
		ortCol, ratioCol := "-", "-"
		if r.ORTMS > 0 {
			ortCol, ratioCol = fmt.Sprintf("%.2f", r.ORTMS), fmt.Sprintf("%.2fx", r.Ratio)
		}
		fmt.Fprintf(stdout, "%-28s %-24s %6d %10.2f %10.1f %9.2f %10s %8s\n", r.Model, r.Backend, r.Batch, r.MedianMS, r.GFLOPS, r.GFLOPs, ortCol, ratioCol)
		if r.ORTStatus != "" {
			fmt.Fprintf(stdout, "  (ONNX Runtime not timed: %s)\n", r.ORTStatus)
		}
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	return nil
}

// timeORT runs tools/ortbench/bench.mjs with Node, which times ONNX
// Runtime's CPU provider on the same file with as many threads as we use.
func timeORT(model string, runs int, shape []int) (float64, error) {
	script, err := ortScript()
	if err != nil {
		return 0, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return 0, errors.New("node is not installed")
	}
	dims := ""
	for i, d := range shape {
		if i > 0 {
			dims += ","
		}
		dims += strconv.Itoa(d)
	}
	cmd := exec.Command(node, script, model, strconv.Itoa(runs), strconv.Itoa(runtime.GOMAXPROCS(0)), dims)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("ONNX Runtime benchmark failed: %w", err)
	}
	var res struct {
		MedianMS float64 `json:"median_ms"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, fmt.Errorf("ONNX Runtime benchmark printed %q: %w", out, err)
	}
	return res.MedianMS, nil
}

// ortScript finds tools/ortbench/bench.mjs with its node_modules installed.
func ortScript() (string, error) {
	dir := os.Getenv("TESSERA_ORTBENCH")
	if dir == "" {
		dir = filepath.Join("tools", "ortbench")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		return "", fmt.Errorf("onnxruntime-node is not installed (run: npm install --ignore-scripts --prefix %s)", dir)
	}
	return filepath.Join(dir, "bench.mjs"), nil
}
