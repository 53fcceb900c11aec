package patchcore_test

import (
	"fmt"
	"image"
	"log"
	"os"
	"path/filepath"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
)

// The library natively, end to end: load the default model, fit a memory
// bank on good images, save it, load it back, and score new images. The
// paths are the repository's shipped model and hazelnut sample.
func Example() {
	const repo = "../.."
	model := filepath.Join(repo, "weights", "mobilenetv2-layer3.onnx")
	sample := filepath.Join(repo, "site", "sample")

	// A model on the CPU backend (all cores), prepared as ImageNet models expect.
	x, err := patchcore.LoadExtractor(model, backbone.Options{}, imageprep.ImageNet(), compute.Fixed(cpu.New(0)))
	if err != nil {
		log.Fatal(err)
	}

	// Fit: images are loaded lazily, one batch at a time.
	good, _ := filepath.Glob(filepath.Join(sample, "train", "good", "*.jpg"))
	var train []patchcore.Image
	for _, p := range good {
		train = append(train, patchcore.Image{Name: p, Load: func() (image.Image, error) { return imageprep.Open(p) }})
	}
	b, _, err := patchcore.Fit(x, train, patchcore.Default(), nil)
	if err != nil {
		log.Fatal(err)
	}

	// Save and load: the .tbank file records the model and every setting.
	path := filepath.Join(os.TempDir(), "example-hazelnut.tbank")
	defer os.Remove(path)
	if err := b.WriteFile(path); err != nil {
		log.Fatal(err)
	}
	loaded, err := bank.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	det, err := patchcore.NewDetector(x, loaded)
	if err != nil {
		log.Fatal(err)
	}

	// Predict: a score, the verdict at the bank's threshold, and a map.
	for _, name := range []string{"test/good/04.jpg", "test/colour/05.jpg"} {
		img, err := imageprep.Open(filepath.Join(sample, name))
		if err != nil {
			log.Fatal(err)
		}
		res, err := det.Predict([]image.Image{img})
		if err != nil {
			log.Fatal(err)
		}
		r := res[0]
		fmt.Printf("%s: anomalous %v, map %dx%d\n", name, r.IsAnomalous, r.MapW, r.MapH)
	}
	// Output:
	// test/good/04.jpg: anomalous false, map 224x224
	// test/colour/05.jpg: anomalous true, map 224x224
}
