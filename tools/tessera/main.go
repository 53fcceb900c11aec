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
//	tessera serve --bank NAME=BANK [--addr 127.0.0.1:8090]
//	tessera version
//
// Run "tessera COMMAND --help" for a command's flags and examples.
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
	examples      []string
}

func commands() []command {
	return []command{
		{"embed", "write a model's feature layers for images or an .npy batch as .npy files", runEmbed, []string{
			"tessera embed --out feats/ site/sample/train/good/00.jpg",
			"tessera embed --model resnet50v2-layer3.onnx --npy input.npy --out feats/",
		}},
		{"fit", "build a PatchCore memory bank from defect-free images", runFit, []string{
			"tessera fit --data site/sample --out hazelnut.tbank",
			"tessera fit --model resnet50v2-layer3.onnx --data ../shared/data/mvtec-ad-256/bottle --coreset 0.01 --out bottle.tbank",
		}},
		{"predict", "score images against a memory bank, with heatmap overlays", runPredict, []string{
			"tessera predict --bank hazelnut.tbank site/sample/test/colour/00.jpg site/sample/test/good/04.jpg",
			"tessera predict --bank hazelnut.tbank --heatmaps heat/ site/sample/test/*/*.jpg",
		}},
		{"eval", "fit on an MVTec category's train/good and evaluate on its test set", runEval, []string{
			"tessera eval --data site/sample --json sample.json",
			"tessera eval --model resnet50v2-layer3.onnx --data ../shared/data/mvtec-ad-256/bottle --json bottle.json",
		}},
		{"bench", "time feature extraction, side by side with ONNX Runtime when available", runBench, []string{
			"tessera bench",
			"tessera bench --models resnet50v2-layer3.onnx,mobilenetv2-layer3.onnx --runs 30 --backend cpu",
		}},
		{"serve", "serve banks over HTTP: images posted are scored in batches (JSON verdicts, maps, metrics)", runServe, []string{
			"tessera serve --bank hazelnut=hazelnut.tbank",
			"tessera serve --bank bottle=bottle.tbank --addr 0.0.0.0:8090 --backend auto --max-batch 8 --max-wait 5ms --token-file token",
		}},
		{"version", "print the version, the Go toolchain and the CPU kernels chosen", runVersion, []string{
			"tessera version",
		}},
	}
}

// newFlags makes a command's flag set, whose --help shows its examples.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		for _, c := range commands() {
			if c.name != name {
				continue
			}
			fmt.Fprintf(stderr, "tessera %s: %s\n\nexamples:\n", name, c.summary)
			for _, e := range c.examples {
				fmt.Fprintf(stderr, "  %s\n", e)
			}
		}
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

func main() {
	// TESSERA_CPUPROFILE=FILE writes a CPU profile of the whole command.
	if p := os.Getenv("TESSERA_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		// Asking for help is a success.
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tessera:", err)
		os.Exit(1)
	}
}

// errUsage is a command line that names no command: the usage was shown.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		return nil
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
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
	fmt.Fprintln(w, "Tessera: PatchCore anomaly detection (fit a memory bank on good images, score new ones).")
	fmt.Fprintln(w, "\nusage: tessera COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nexamples:")
	for _, c := range commands() {
		if c.name == "fit" || c.name == "predict" || c.name == "eval" {
			fmt.Fprintf(w, "  %s\n", c.examples[0])
		}
	}
	fmt.Fprintln(w, "\nThe default model (mobilenetv2-layer3.onnx) ships in weights/; \"tessera COMMAND --help\" lists a command's flags.")
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
