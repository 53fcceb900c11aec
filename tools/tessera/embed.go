package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/backends"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/internal/weights"
)

// modelFlags are the flags every command that loads a backbone shares.
type modelFlags struct {
	model, weightsDir, layers string
	backend                   string
	resize, crop              int
	log                       io.Writer // where the chosen backend is reported
	// byName looks model up in the weights folder only, never as a path:
	// set when the name comes from a bank.
	byName bool
	// sha256, when set, is the SHA-256 the model file must have (a bank's
	// model), checked while it is read and before it is decoded.
	sha256 string
	// maxPixels is the largest image read (--max-pixels).
	maxPixels int
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	m.log = fs.Output()
	fs.StringVar(&m.model, "model", weights.DefaultModel, "ONNX model: a path, or a file name in the weights folder")
	fs.StringVar(&m.weightsDir, "weights", "", "weights folder (default $TESSERA_WEIGHTS or weights/)")
	fs.IntVar(&m.maxPixels, "max-pixels", imageprep.MaxPixels, "largest image read, in pixels (checked from its header before decoding)")
	fs.StringVar(&m.layers, "layers", "", `feature layers: comma-separated tensor names, "auto" (last stride-8 and stride-16 stage outputs), or empty for the graph outputs`)
	fs.StringVar(&m.backend, "backend", "auto", "compute backend: auto (WebGPU on a GPU, else CPU), webgpu, or cpu")
	fs.IntVar(&m.resize, "resize", 256, "resize the short side of images to this many pixels")
	fs.IntVar(&m.crop, "crop", 224, "center-crop images to this square size (the model's input size)")
}

func (m *modelFlags) load() (*backbone.Model, error) {
	path, err := weights.Resolve(m.model, m.weightsDir)
	if err != nil {
		return nil, err
	}
	return backbone.LoadFile(path, backbone.Options{Layers: splitList(m.layers), Height: m.crop, Width: m.crop})
}

func (m *modelFlags) prep() imageprep.Config {
	c := imageprep.ImageNet()
	c.Resize, c.Crop = m.resize, m.crop
	return c
}

func runEmbed(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("embed", stderr)
	var mf modelFlags
	mf.register(fs)
	in := fs.String("npy", "", "preprocessed N x C x H x W float32 batch to run instead of images")
	out := fs.String("out", "", "folder to write <layer>.npy files into (created if missing)")
	batch := fs.Int("batch", 8, "images per forward pass")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("embed: --out is required")
	}
	if (*in == "") == (fs.NArg() == 0) {
		return errors.New("embed: give either --npy FILE or one or more images")
	}
	if err := mf.prep().Validate(); err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	m, err := mf.load()
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	be, fb, err := openBackend(mf.backend, stderr)
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	e, err := m.NewExecutor(be)
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	e.SetFallback(fb)
	var feats []backbone.Feature
	if *in != "" {
		x, shape, err := npy.ReadFile(*in)
		if err != nil {
			return fmt.Errorf("embed: %w", err)
		}
		if feats, err = e.Run(x, shape); err != nil {
			return fmt.Errorf("embed: %s: %w", *in, err)
		}
	} else {
		if feats, err = embedImages(e, mf.prep(), fs.Args(), *batch, mf.pixels()); err != nil {
			return fmt.Errorf("embed: %w", err)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	for _, f := range feats {
		p := filepath.Join(*out, safeName(f.Name)+".npy")
		if err := npy.WriteFile(p, f.Data, f.Shape); err != nil {
			return fmt.Errorf("embed: writing %s: %w", p, err)
		}
		fmt.Fprintf(stdout, "%s %v\n", p, f.Shape)
	}
	return nil
}

// embedImages runs images through the executor in batches and stacks the
// results along the batch axis.
func embedImages(e *backbone.Executor, prep imageprep.Config, paths []string, batch, maxPixels int) ([]backbone.Feature, error) {
	batch = max(batch, 1)
	c, h, w := e.Model().InputShape()
	var all []backbone.Feature
	for start := 0; start < len(paths); start += batch {
		end := min(start+batch, len(paths))
		x := make([]float32, 0, (end-start)*c*h*w)
		for _, p := range paths[start:end] {
			img, err := imageprep.OpenMax(p, maxPixels)
			if err != nil {
				return nil, err
			}
			t, err := prep.Tensor(img)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			x = append(x, t...)
		}
		feats, err := e.Run(x, []int{end - start, 3, h, w})
		if err != nil {
			return nil, fmt.Errorf("%s...: %w", paths[start], err)
		}
		if all == nil {
			all = feats
			continue
		}
		for i := range all {
			all[i].Data = append(all[i].Data, feats[i].Data...)
			all[i].Shape[0] += feats[i].Shape[0]
		}
	}
	return all, nil
}

// openBackend opens the backend the flag names and says which one runs.
// With "auto" on a GPU it also returns the fallback, which says on stderr
// when it is taken.
func openBackend(kind string, stderr io.Writer) (compute.Backend, *backbone.Fallback, error) {
	c, err := backends.Open(kind)
	if err != nil {
		return nil, nil, err
	}
	if c.Why != "" {
		fmt.Fprintln(stderr, "backend:", c.Why)
	}
	fmt.Fprintln(stderr, "backend:", c.Backend.Name())
	var fb *backbone.Fallback
	if c.Fallback != nil {
		fb = &backbone.Fallback{Open: c.Fallback, Log: func(msg string) { fmt.Fprintln(stderr, "backend:", msg) }}
	}
	return c.Backend, fb, nil
}

// safeName keeps a tensor name usable as a file name.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '/' || c == '\\' || c == ':' || c < ' ' {
			b[i] = '_'
		}
	}
	return string(b)
}

// pixels is the image size limit, the default where no flag set it.
func (m *modelFlags) pixels() int {
	if m.maxPixels <= 0 {
		return imageprep.MaxPixels
	}
	return m.maxPixels
}
