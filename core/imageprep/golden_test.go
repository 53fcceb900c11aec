package imageprep

import (
	"math"
	"testing"

	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/internal/shared"
)

// The golden input batch holds two images preprocessed by torchvision on
// PIL: an MVTec bottle PNG (already 256 px, so only cropped) and a 512 px
// hazelnut JPEG (resized with PIL's antialiased bilinear filter).
func TestMatchesTorchvision(t *testing.T) {
	x, shape, err := npy.ReadFile(shared.Path(t, "weights", "golden", "resnet50v2", "input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if shape[0] != 2 || shape[1] != 3 || shape[2] != 224 || shape[3] != 224 {
		t.Fatalf("golden input shape %v", shape)
	}
	n := 3 * 224 * 224
	c := ImageNet()
	for i, tc := range []struct {
		path      string
		maxLevels float64 // largest difference allowed, in 8-bit levels
		meanLevel float64 // mean difference allowed, in 8-bit levels
	}{
		{shared.Path(t, "data", "mvtec-ad-256", "bottle", "test", "broken_large", "000.png"), 0.01, 0.001},
		// JPEG decoders differ by a level or two (Go's vs libjpeg-turbo's
		// IDCT and chroma upsampling); the resize itself is exact.
		{shared.Path(t, "data", "hazelnut-toy", "train", "good", "03.jpg"), 3, 0.5},
	} {
		img, err := Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Tensor(img)
		if err != nil {
			t.Fatal(err)
		}
		want := x[i*n : (i+1)*n]
		var worst, sum float64
		for j := range want {
			ch := j / (224 * 224)
			d := math.Abs(float64(got[j]-want[j])) * float64(c.Std[ch]) * 255
			worst = math.Max(worst, d)
			sum += d
		}
		mean := sum / float64(n)
		t.Logf("%s: max %.3f levels, mean %.4f levels", tc.path, worst, mean)
		if worst > tc.maxLevels || mean > tc.meanLevel {
			t.Errorf("%s: differs from torchvision by up to %.3f levels (mean %.4f), allowed %.2f (mean %.3f)",
				tc.path, worst, mean, tc.maxLevels, tc.meanLevel)
		}
	}
}
