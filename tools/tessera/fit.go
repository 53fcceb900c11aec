package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/patchcore"
)

func runFit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fit", stderr)
	var mf modelFlags
	mf.register(fs)
	fs.IntVar(&mf.batch, "batch", patchcore.Default().Batch, "images per backbone pass (a GPU wants 32 or more)")
	var pf patchcoreFlags
	pf.register(fs)
	data := fs.String("data", "", "folder of good images, or an MVTec category (its train/good is used)")
	out := fs.String("out", "", "memory bank file to write")
	quiet := fs.Bool("q", false, "no progress output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return errors.New("fit: --data and --out are required")
	}
	// Bad settings fail before the model is loaded.
	cfg := pf.config()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	paths, err := dataset.TrainImages(*data)
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	in, err := mf.open(cfg.Search)
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	var progress patchcore.Progress
	if !*quiet {
		progress = progressPrinter(stderr)
	}
	rep, err := in.Fit(patchcore.ImageFiles(paths, mf.pixels()), cfg, progress)
	for _, f := range rep.Failures {
		fmt.Fprintf(stderr, "skipped %v\n", f)
	}
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	if err := in.SaveBank(*out); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	b := in.Bank()
	t := rep.Timings
	fmt.Fprintf(stdout, "wrote %s: %d of %d patches from %d images (%s), threshold %.4g (%s)\n",
		*out, b.N, b.TrainPatches, b.TrainImages, b.ModelName, b.Threshold, b.ThresholdRule)
	fmt.Fprintf(stdout, "time: backbone %v, embedding %v, coreset %v, threshold search %v\n",
		t.Backbone.Round(1e6), t.Embed.Round(1e6), t.Coreset.Round(1e6), t.Search.Round(1e6))
	return nil
}
