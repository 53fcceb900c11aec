package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/internal/weights"
)

// modelFlags are the flags every command that loads a backbone shares.
type modelFlags struct {
	model, weightsDir, layers string
	backend                   string
	resize, crop              int
	fit, size                 string
	overlap                   int
	batch                     int       // images per backbone pass (--batch, where a command has it; 0: 8)
	log                       io.Writer // where the chosen backend is reported
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
	fs.StringVar(&m.fit, "fit", "crop", "how images meet the model's input: crop (short side to --resize, centre --crop square: the reference's), pad (the whole image, aspect kept, padded to --size), stretch (the whole image scaled to --size), or tile (the image at its own resolution cut into --size tiles, --overlap pixels apart)")
	fs.IntVar(&m.overlap, "overlap", 0, "pixels neighbouring tiles share, with --fit tile")
	fs.StringVar(&m.size, "size", "", "the model's input as WIDTHxHEIGHT for --fit pad or stretch (default: --crop square)")
}

// options are the inspector options the flags give; search is how
// patches find their nearest bank vectors (fit, eval).
func (m modelFlags) options(search patchcore.Search) inspector.Options {
	log := m.log
	if log == nil {
		log = io.Discard
	}
	return inspector.Options{
		Backend: m.backend, Layers: splitList(m.layers), Prep: m.prep(), Search: search, Batch: m.batch,
		Log: func(msg string) { fmt.Fprintln(log, "backend:", msg) },
	}
}

// open loads the model the flags name on the backend they name.
func (m *modelFlags) open(search patchcore.Search) (*inspector.Inspector, error) {
	path, err := weights.Resolve(m.model, m.weightsDir)
	if err != nil {
		return nil, err
	}
	return inspector.Open(inspector.Model{Path: path}, m.options(search))
}

func (m *modelFlags) prep() imageprep.Config {
	c := imageprep.ImageNet()
	c.Resize, c.Crop = m.resize, m.crop
	if m.fit != "crop" && m.fit != "" {
		c.Fit, c.Resize, c.Crop = m.fit, 0, 0
		c.Width, c.Height = m.crop, m.crop
	}
	c.Overlap = m.overlap
	if m.size != "" {
		// A malformed size leaves 0 x 0, and a size under crop is refused:
		// Validate names either.
		c.Width, c.Height = 0, 0
		if _, err := fmt.Sscanf(m.size, "%dx%d", &c.Width, &c.Height); err != nil && c.Fit == imageprep.FitCrop {
			c.Width = -1
		}
	}
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
	insp, err := mf.open(patchcore.SearchAuto)
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	e := insp.Extractor().Exec
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
