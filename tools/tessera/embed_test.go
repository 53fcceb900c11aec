package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/npy"
	"github.com/tessera/tessera/internal/golden"
	"github.com/tessera/tessera/internal/shared"
)

// TestEmbedGolden runs the embed command on the golden input batches and
// compares the written .npy files with ONNX Runtime's outputs.
func TestEmbedGolden(t *testing.T) {
	for _, net := range golden.Nets {
		t.Run(net.Dir, func(t *testing.T) {
			dir := shared.Path(t, "weights", "golden", net.Dir)
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			err := run([]string{"embed", "--model", shared.Weights(t, net.File), "--npy", filepath.Join(dir, "input.npy"), "--out", out}, &stdout, &stderr)
			if err != nil {
				t.Fatalf("embed: %v\n%s", err, stderr.String())
			}
			for _, layer := range []string{"layer2", "layer3"} {
				got, gs, err := npy.ReadFile(filepath.Join(out, layer+".npy"))
				if err != nil {
					t.Fatal(err)
				}
				want, ws, err := npy.ReadFile(filepath.Join(dir, layer+".npy"))
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) || len(gs) != len(ws) {
					t.Fatalf("%s: shape %v, want %v", layer, gs, ws)
				}
				if e := golden.RelL2(got, want); e > golden.Tolerance {
					t.Errorf("%s: relative L2 error %.2e, want < 1e-4", layer, e)
				} else {
					t.Logf("%s %v: relative L2 error %.2e", layer, gs, e)
				}
			}
		})
	}
}

func TestEmbedImages(t *testing.T) {
	imgs, _ := filepath.Glob(filepath.Join(filepath.Join(shared.Sample(t), "train", "good"), "*.jpg"))
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := append([]string{"embed", "--model", shared.Weights(t, "mobilenetv2-layer3.onnx"), "--batch", "3", "--out", out}, imgs[:5]...)
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("embed: %v\n%s", err, stderr.String())
	}
	_, shape, err := npy.ReadFile(filepath.Join(out, "layer3.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if shape[0] != 5 || shape[1] != 96 || shape[2] != 14 {
		t.Errorf("layer3 of 5 images in batches of 3: shape %v, want [5 96 14 14]", shape)
	}
}

func TestEmbedErrors(t *testing.T) {
	dir := t.TempDir()
	model := shared.Weights(t, "mobilenetv2-layer3.onnx")
	raw, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.onnx")
	os.WriteFile(truncated, raw[:len(raw)/2], 0o644)
	corruptImg := filepath.Join(dir, "broken.png")
	os.WriteFile(corruptImg, []byte("\x89PNG\r\n\x1a\n not really"), 0o644)
	fourChannels := filepath.Join(dir, "four.npy")
	npy.WriteFile(fourChannels, make([]float32, 4*224*224), []int{1, 4, 224, 224})
	good := filepath.Join(filepath.Join(shared.Sample(t), "train", "good"), "00.jpg")

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no inputs", []string{"embed", "--model", model, "--out", dir}, "give either --npy FILE or one or more images"},
		{"no out", []string{"embed", "--model", model, good}, "--out is required"},
		{"missing model", []string{"embed", "--model", "nope.onnx", "--weights", dir, "--out", dir, good}, `model "nope.onnx" not found`},
		{"truncated model", []string{"embed", "--model", truncated, "--out", dir, good}, "truncated.onnx"},
		{"corrupt image", []string{"embed", "--model", model, "--out", dir, good, corruptImg}, "broken.png: imageprep: cannot decode image"},
		{"missing image", []string{"embed", "--model", model, "--out", dir, filepath.Join(dir, "gone.jpg")}, "gone.jpg"},
		{"wrong channels", []string{"embed", "--model", model, "--out", dir, "--npy", fourChannels}, "input has 4 channels, the model expects 3"},
		{"unknown command", []string{"embedd"}, `unknown command "embedd"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
