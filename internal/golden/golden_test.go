package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tessera/tessera/internal/shared"
)

// TestShippedCopies checks that the golden files and the model the
// repository ships are byte-identical to the shared originals.
func TestShippedCopies(t *testing.T) {
	for _, n := range Nets {
		if !n.Shipped {
			continue
		}
		pairs := [][2]string{{filepath.Join(shared.Repo(), "weights", n.File), shared.Path(t, "weights", n.File)}}
		for _, f := range []string{"input.npy", "layer2.npy", "layer3.npy"} {
			pairs = append(pairs, [2]string{File(t, n, f), shared.Path(t, "weights", "golden", n.Dir, f)})
		}
		for _, p := range pairs {
			a, err := os.ReadFile(p[0])
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p[1])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs from the shared %s", p[0], p[1])
			}
		}
	}
}
