// Package benchdata gives benchmarks real PatchCore data: the patch
// vectors of a shared category's images for a shared model, its memory
// bank, extracted once and cached as .npy under out/bench (git-ignored),
// since extracting a large category takes minutes.
package benchdata

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/coreset"
	"github.com/tessera/tessera/internal/shared"
)

// Set names a shared category and a shared model, e.g.
// {"mvtec-ad-256/bottle", "resnet50v2-layer3.onnx"}; the category
// "sample" is the repository's own sample (site/sample).
type Set struct{ Category, Model string }

// Sample is the shipped sample with the shipped model: real data that a
// fresh clone has.
var Sample = Set{Category: "sample", Model: "mobilenetv2-layer3.onnx"}

func (s Set) dir(tb testing.TB) string {
	if s.Category == "sample" {
		return shared.Sample(tb)
	}
	return shared.Path(tb, "data", s.Category)
}

func (s Set) String() string {
	return strings.ReplaceAll(s.Category, "/", "-") + "-" + strings.TrimSuffix(s.Model, ".onnx")
}

func cached(tb testing.TB, name string, make func() ([]float32, []int)) ([]float32, []int) {
	tb.Helper()
	dir := filepath.Join(shared.Repo(), "out", "bench")
	p := filepath.Join(dir, name+".npy")
	if x, shape, err := npy.ReadFile(p); err == nil {
		return x, shape
	}
	x, shape := make()
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := npy.WriteFile(p, x, shape); err != nil {
			tb.Logf("benchdata: not cached: %v", err)
		}
	}
	return x, shape
}

// Train returns the patch vectors of every training image (n x d).
func Train(tb testing.TB, s Set) ([]float32, int, int) {
	tb.Helper()
	x, shape := cached(tb, s.String()+"-train", func() ([]float32, []int) {
		paths, err := dataset.TrainImages(s.dir(tb))
		if err != nil {
			tb.Fatal(err)
		}
		return extract(tb, s, paths)
	})
	return x, shape[0], shape[1]
}

// Test returns the patch vectors of images test images spread evenly
// over the category's test set (good and defective alike).
func Test(tb testing.TB, s Set, images int) ([]float32, int, int) {
	tb.Helper()
	x, shape := cached(tb, fmt.Sprintf("%s-test%d", s, images), func() ([]float32, []int) {
		all, err := dataset.Test(s.dir(tb))
		if err != nil {
			tb.Fatal(err)
		}
		var paths []string
		for i := 0; i < min(images, len(all)); i++ {
			paths = append(paths, all[i*len(all)/min(images, len(all))].Path)
		}
		return extract(tb, s, paths)
	})
	return x, shape[0], shape[1]
}

// Bank returns the memory bank PatchCore's default coreset keeps of the
// training vectors.
func Bank(tb testing.TB, s Set) ([]float32, int, int) {
	tb.Helper()
	x, shape := cached(tb, s.String()+"-bank", func() ([]float32, []int) {
		all, n, d := Train(tb, s)
		idx, err := coreset.Select(all, n, d, coreset.Default(), nil)
		if err != nil {
			tb.Fatal(err)
		}
		out := make([]float32, len(idx)*d)
		for i, j := range idx {
			copy(out[i*d:], all[j*d:(j+1)*d])
		}
		return out, []int{len(idx), d}
	})
	return x, shape[0], shape[1]
}

func extract(tb testing.TB, s Set, paths []string) ([]float32, []int) {
	tb.Helper()
	x, err := patchcore.LoadExtractor(shared.Weights(tb, s.Model), backbone.Options{}, imageprep.ImageNet(), compute.Fixed(cpu.New(0)))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := patchcore.Default().Embed
	var all []float32
	for i := 0; i < len(paths); i += 8 {
		var imgs []image.Image
		for _, p := range paths[i:min(i+8, len(paths))] {
			img, err := imageprep.Open(p)
			if err != nil {
				tb.Fatal(err)
			}
			imgs = append(imgs, img)
		}
		ps, _, _, err := x.PatchVectors(imgs, cfg, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range ps {
			all = append(all, p...)
		}
	}
	return all, []int{len(all) / cfg.TargetDim, cfg.TargetDim}
}
