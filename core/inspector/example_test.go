package inspector_test

import (
	"fmt"
	"image"
	"log"
	"os"
	"path/filepath"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
)

// The application layer end to end: open the default model, fit a
// memory bank on good images, save it, open it again as the bank says,
// and score new images with their heatmap overlays. The paths are the
// repository's shipped model and hazelnut sample.
func Example() {
	const repo = "../.."
	model := inspector.Model{Path: filepath.Join(repo, "weights", "mobilenetv2-layer3.onnx")}
	sample := filepath.Join(repo, "site", "sample")

	// The model on the CPU ("auto" takes a GPU where there is one, and
	// moves to the CPU if it fails), prepared as ImageNet models expect.
	in, err := inspector.Open(model, inspector.Options{Backend: "cpu"})
	if err != nil {
		log.Fatal(err)
	}

	// Fit: images are loaded lazily, one batch at a time.
	good, _ := filepath.Glob(filepath.Join(sample, "train", "good", "*.jpg"))
	if _, err := in.Fit(patchcore.ImageFiles(good, imageprep.MaxPixels), patchcore.Default(), nil); err != nil {
		log.Fatal(err)
	}

	// Save, and open again: the .tbank file records the model (checked by
	// its SHA-256) and every setting.
	path := filepath.Join(os.TempDir(), "example-inspector.tbank")
	defer os.Remove(path)
	if err := in.SaveBank(path); err != nil {
		log.Fatal(err)
	}
	again, err := inspector.Open(model, inspector.Options{Backend: "cpu"})
	if err != nil {
		log.Fatal(err)
	}
	if err := again.LoadBank(path); err != nil {
		log.Fatal(err)
	}

	// Predict: a score, the verdict at the bank's threshold, a map and
	// its overlay on the prepared image.
	for _, name := range []string{"test/good/04.jpg", "test/colour/05.jpg"} {
		img, err := imageprep.Open(filepath.Join(sample, name))
		if err != nil {
			log.Fatal(err)
		}
		ps, err := again.Predict([]image.Image{img}, inspector.PredictOptions{Overlay: true})
		if err != nil {
			log.Fatal(err)
		}
		p := ps[0]
		fmt.Printf("%s: anomalous %v, map %dx%d, overlay %v\n", name, p.IsAnomalous, p.MapW, p.MapH, p.Overlay.Rect.Size())
	}
	// Output:
	// test/good/04.jpg: anomalous false, map 224x224, overlay (224,224)
	// test/colour/05.jpg: anomalous true, map 224x224, overlay (224,224)
}
