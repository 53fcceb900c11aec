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
	"slices"
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
	rounds := fs.Int("rounds", 3, "rounds of --runs each, Tessera and ONNX Runtime taking turns, so that both see the machine alike; figures are medians over the rounds")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 || *runs < 1 {
		return fmt.Errorf("bench: --rounds %d and --runs %d must be at least 1", *rounds, *runs)
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
		r, err := benchRounds(in, *rounds, *runs, *batch, *ort, path)
		in.Close()
		if err != nil {
			return fmt.Errorf("bench: %s: %w", name, err)
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

// benchRounds times the backbone and, with ort, ONNX Runtime on the same
// file, in turns: on a shared machine whose speed drifts over seconds, a
// ratio of two figures taken minutes apart says more about the machine
// than about either. Each figure is the median of its rounds' medians,
// the ratio the median of the rounds' ratios.
func benchRounds(in *inspector.Inspector, rounds, runs, batch int, ort bool, path string) (benchResult, error) {
	var ours, theirs, ratios, p10, p90 []float64
	r := benchResult{Model: filepath.Base(path)}
	for round := 0; round < rounds; round++ {
		// A device failure mid-run is an error: a figure must come from
		// the backend it is labelled with.
		bt, err := in.BenchBackbone(runs, batch)
		if err != nil {
			return r, err
		}
		r.Backend, r.Batch, r.GFLOPs = bt.Backend, bt.Batch, bt.GFLOPs
		ours, p10, p90 = append(ours, bt.MedianMS), append(p10, bt.P10MS), append(p90, bt.P90MS)
		if !ort || r.ORTStatus != "" {
			continue
		}
		c := in.Info().Input
		ms, err := timeORT(path, runs, []int{1, c[0], c[1], c[2]})
		if err != nil {
			r.ORTStatus = err.Error()
			continue
		}
		theirs, ratios = append(theirs, ms), append(ratios, bt.MedianMS/ms)
	}
	r.MedianMS, r.P10MS, r.P90MS = median(ours), median(p10), median(p90)
	r.GFLOPS = r.GFLOPs / (r.MedianMS / 1e3)
	if r.ORTStatus == "" && len(theirs) > 0 {
		r.ORTMS, r.Ratio = median(theirs), median(ratios)
	}
	return r, nil
}

// median is inspector.Median of unsorted values.
func median(v []float64) float64 { return inspector.Median(slices.Sorted(slices.Values(v))) }

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
