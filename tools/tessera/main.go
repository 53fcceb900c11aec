// Command tessera is Tessera's native command line: it extracts backbone
// features, fits and applies PatchCore memory banks, evaluates them on
// MVTec-layout data, and benchmarks the engine.
//
// Usage:
//
//	tessera embed --model M.onnx (--npy IN.npy | IMAGE...) --out DIR
//	tessera fit --model M.onnx --data DIR --out BANK
//	tessera predict --bank BANK IMAGE... [--heatmaps DIR]
//	tessera eval --model M.onnx --data CATEGORY --json OUT.json
//	tessera bench [--models M.onnx,...] [--runs 30]
//
// Run "tessera COMMAND -h" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
)

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"embed", "write a model's feature layers for images or an .npy batch as .npy files", runEmbed},
		{"fit", "build a PatchCore memory bank from defect-free images", runFit},
		{"predict", "score images against a memory bank, with heatmap overlays", runPredict},
		{"eval", "fit on an MVTec category's train/good and evaluate on its test set", runEval},
		{"bench", "time feature extraction, side by side with ONNX Runtime when available", runBench},
	}
}

func main() {
	// TESSERA_CPUPROFILE=FILE writes a CPU profile of the whole command.
	if p := os.Getenv("TESSERA_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tessera:", err)
		}
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tessera COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
