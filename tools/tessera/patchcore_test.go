package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera/tessera/internal/shared"
)

// TestFitPredictEval drives the three PatchCore commands on the small
// hazelnut set as a user would.
func TestFitPredictEval(t *testing.T) {
	cat := shared.Sample(t)
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	dir := t.TempDir()
	bankPath := filepath.Join(dir, "hazelnut.tbank")
	var out, errOut bytes.Buffer
	if err := run([]string{"fit", "-q", "--weights", weights, "--data", cat, "--out", bankPath}, &out, &errOut); err != nil {
		t.Fatalf("fit: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "threshold") {
		t.Errorf("fit printed %q", out.String())
	}

	good := filepath.Join(cat, "test", "good")
	goods, _ := filepath.Glob(filepath.Join(good, "*"))
	bads, _ := filepath.Glob(filepath.Join(cat, "test", "colour", "*"))
	broken := filepath.Join(dir, "broken.png")
	os.WriteFile(broken, []byte("not a png"), 0o644)
	heat := filepath.Join(dir, "heat")
	out.Reset()
	err := run([]string{"predict", "--weights", weights, "--bank", bankPath, "--heatmaps", heat, goods[0], broken, bads[0]}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 images failed") {
		t.Errorf("predict with a broken image: %v", err)
	}
	var preds []prediction
	if err := json.Unmarshal(out.Bytes(), &preds); err != nil {
		t.Fatalf("predict output: %v\n%s", err, out.String())
	}
	if len(preds) != 3 || preds[1].Error == "" || preds[0].Error != "" || preds[2].Error != "" {
		t.Fatalf("predictions %+v", preds)
	}
	if !(preds[2].Score > preds[0].Score) || !preds[2].IsAnomalous {
		t.Errorf("defective image %g (anomalous %v) vs good %g, threshold %g", preds[2].Score, preds[2].IsAnomalous, preds[0].Score, preds[0].Threshold)
	}
	if st, err := os.Stat(preds[2].Heatmap); err != nil || st.Size() == 0 {
		t.Errorf("heatmap %q: %v", preds[2].Heatmap, err)
	}

	// Hostile images each get their own error and leave the others'
	// results whole: a 1 x 100,000 strip (which resizing would make 26 GB)
	// and an image of the same folder and file name as another, whose
	// heatmap must not overwrite the first's.
	strip := filepath.Join(dir, "strip.png")
	if f, err := os.Create(strip); err == nil {
		png.Encode(f, image.NewGray(image.Rect(0, 0, 1, 100000)))
		f.Close()
	}
	twin := filepath.Join(dir, "elsewhere", "good", filepath.Base(goods[0]))
	os.MkdirAll(filepath.Dir(twin), 0o755)
	src, _ := os.ReadFile(goods[1])
	os.WriteFile(twin, src, 0o644)
	out.Reset()
	err = run([]string{"predict", "--weights", weights, "--bank", bankPath, "--heatmaps", heat, goods[0], strip, twin}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 images failed") {
		t.Errorf("predict with a strip: %v", err)
	}
	var hostile []prediction
	if err := json.Unmarshal(out.Bytes(), &hostile); err != nil {
		t.Fatalf("predict output: %v\n%s", err, out.String())
	}
	if len(hostile) != 3 || !strings.Contains(hostile[1].Error, "over the limit") || hostile[0].Error != "" || hostile[2].Error != "" {
		t.Fatalf("predictions %+v", hostile)
	}
	if hostile[0].Heatmap == hostile[2].Heatmap {
		t.Errorf("two images wrote one heatmap, %s", hostile[0].Heatmap)
	}
	// --max-pixels lowers the limit read from each image's header.
	out.Reset()
	err = run([]string{"predict", "--weights", weights, "--bank", bankPath, "--max-pixels", "1000", goods[0]}, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "over the limit of 1000") {
		t.Errorf("--max-pixels 1000: %v\n%s", err, out.String())
	}

	// The WebGPU backend (lavapipe here) scores as the CPU does.
	out.Reset()
	if err := run([]string{"predict", "--backend", "webgpu", "--weights", weights, "--bank", bankPath, goods[0], bads[0]}, &out, &errOut); err != nil {
		if strings.Contains(err.Error(), "no GPU adapter") && os.Getenv("TESSERA_REQUIRE_WEBGPU") != "1" {
			t.Logf("WebGPU part skipped: %v", err)
		} else {
			t.Errorf("predict on webgpu: %v", err)
		}
	} else {
		var gpu []prediction
		if err := json.Unmarshal(out.Bytes(), &gpu); err != nil {
			t.Fatal(err)
		}
		for i, cpuScore := range []float64{preds[0].Score, preds[2].Score} {
			if rel := math.Abs(gpu[i].Score-cpuScore) / cpuScore; rel > 1e-4 {
				t.Errorf("image %d: WebGPU score %g, CPU %g (relative %.1e)", i, gpu[i].Score, cpuScore, rel)
			}
		}
		t.Logf("WebGPU vs CPU scores: %g/%g and %g/%g", gpu[0].Score, preds[0].Score, gpu[1].Score, preds[2].Score)
	}

	// A truncated bank is refused, and so is a bank used with another model.
	data, _ := os.ReadFile(bankPath)
	trunc := filepath.Join(dir, "trunc.tbank")
	os.WriteFile(trunc, data[:len(data)/2], 0o644)
	if err := run([]string{"predict", "--weights", weights, "--bank", trunc, goods[0]}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "truncated or corrupt") {
		t.Errorf("truncated bank: %v", err)
	}
	// Another model: the same network with a doc string appended (a valid
	// protobuf field), so its bytes and hash differ.
	raw, err := os.ReadFile(filepath.Join(weights, "mobilenetv2-layer3.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.onnx")
	os.WriteFile(other, append(raw, 0x32, 5, 'o', 't', 'h', 'e', 'r'), 0o644)
	if err := run([]string{"predict", "--model", other, "--bank", bankPath, goods[0]}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "the bank was made with a model of sha256") {
		t.Errorf("bank with another model: %v", err)
	}
	// The model the bank names, replaced in its weights folder by bytes
	// that are no model: refused by its hash, before anything decodes it.
	swapped := t.TempDir()
	os.WriteFile(filepath.Join(swapped, "mobilenetv2-layer3.onnx"), []byte("\x08\x07not a model"), 0o644)
	if err := run([]string{"predict", "--weights", swapped, "--bank", bankPath, goods[0]}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "has sha256") || strings.Contains(err.Error(), "corrupt") {
		t.Errorf("bank's model swapped for junk: %v", err)
	}
	// An empty folder is not a training set; the old bank survives.
	if err := run([]string{"fit", "-q", "--weights", weights, "--data", t.TempDir(), "--out", bankPath}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "no images (PNG, JPEG, BMP, TIFF or WebP)") {
		t.Errorf("empty training folder: %v", err)
	}
	if after, _ := os.ReadFile(bankPath); !bytes.Equal(after, data) {
		t.Error("a failed fit changed the existing bank")
	}

	jsonPath := filepath.Join(dir, "eval.json")
	out.Reset()
	if err := run([]string{"eval", "-q", "--weights", weights, "--data", cat, "--json", jsonPath}, &out, &errOut); err != nil {
		t.Fatalf("eval: %v\n%s", err, errOut.String())
	}
	var rep evalReport
	b, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("eval: image AUROC %.3f, pixel AUROC %.3f, PRO %.3f", rep.ImageAUROC, rep.PixelAUROC, rep.PRO)
	if rep.ImageAUROC < 0.9 || rep.PixelAUROC < 0.9 || rep.PRO < 0.5 || rep.TestImages != len(goods)+len(bads) {
		t.Errorf("eval figures %+v", rep)
	}
	html, err := os.ReadFile(filepath.Join(dir, "eval.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "Image ROC", "PRO curve", fmt.Sprintf("threshold %.4g", rep.Threshold), "data:image/png;base64,",
		"Lowest-scoring defects", "Highest-scoring good parts", "passed as good", "image AUROC vs good"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("the report has no %q", want)
		}
	}
	c := rep.Confusion
	if c.DefectsFlagged+c.DefectsPassed != len(bads) || c.GoodPassed+c.GoodRejected != len(goods) ||
		len(rep.PerKind) != 1 || rep.PerKind[0].Kind != "colour" || rep.PerKind[0].Images != len(bads) ||
		len(rep.Worst.Missed) == 0 || len(rep.Worst.FalseAlarms) == 0 {
		t.Errorf("confusion %+v, per kind %+v, worst %+v", c, rep.PerKind, rep.Worst)
	}
}

// TestEvalWithoutMasks: a category with no ground-truth masks gets its
// image AUROC, and the report says why the pixel figures are absent.
func TestEvalWithoutMasks(t *testing.T) {
	cat := shared.Sample(t)
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	dir := t.TempDir()
	for _, sub := range []string{"train", "test"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join(cat, sub))); err != nil {
			t.Fatal(err)
		}
	}
	jsonPath := filepath.Join(dir, "eval.json")
	var out, errOut bytes.Buffer
	if err := run([]string{"eval", "-q", "--weights", weights, "--data", dir, "--json", jsonPath}, &out, &errOut); err != nil {
		t.Fatalf("eval without masks: %v\n%s", err, errOut.String())
	}
	var rep struct {
		ImageAUROC float64 `json:"image_auroc"`
		PixelNote  string  `json:"pixel_note"`
	}
	raw, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ImageAUROC < 0.9 || !strings.Contains(rep.PixelNote, "mask") || !strings.Contains(out.String(), "no pixel metrics") {
		t.Errorf("image AUROC %g, pixel note %q, output %q", rep.ImageAUROC, rep.PixelNote, out.String())
	}
}

// TestHalfPrecisionBank: fit --bank-precision f16 writes a bank of about
// half the bytes, and predict on it scores the sample's test images within
// half precision's rounding of the float32 bank's scores.
func TestHalfPrecisionBank(t *testing.T) {
	cat := shared.Sample(t)
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	dir := t.TempDir()
	imgs, _ := filepath.Glob(filepath.Join(cat, "test", "*", "*"))
	scores := map[string][]prediction{}
	sizes := map[string]int64{}
	for _, prec := range []string{"f32", "f16"} {
		p := filepath.Join(dir, prec+".tbank")
		var out, errOut bytes.Buffer
		if err := run([]string{"fit", "-q", "--weights", weights, "--data", cat, "--bank-precision", prec, "--out", p}, &out, &errOut); err != nil {
			t.Fatalf("fit %s: %v\n%s", prec, err, errOut.String())
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		sizes[prec] = st.Size()
		out.Reset()
		if err := run(append([]string{"predict", "--weights", weights, "--bank", p}, imgs...), &out, &errOut); err != nil {
			t.Fatalf("predict %s: %v", prec, err)
		}
		var preds []prediction
		if err := json.Unmarshal(out.Bytes(), &preds); err != nil {
			t.Fatal(err)
		}
		scores[prec] = preds
	}
	if r := float64(sizes["f16"]) / float64(sizes["f32"]); r > 0.52 {
		t.Errorf("f16 bank is %d bytes, f32 %d (%.3f)", sizes["f16"], sizes["f32"], r)
	}
	worst := 0.0
	for i, p := range scores["f32"] {
		h := scores["f16"][i]
		worst = max(worst, math.Abs(h.Score-p.Score)/p.Score)
		if p.IsAnomalous != h.IsAnomalous && math.Abs(p.Score-p.Threshold) > 0.01*p.Threshold {
			t.Errorf("%s: verdict %v with f32, %v with f16 (scores %g, %g)", p.Image, p.IsAnomalous, h.IsAnomalous, p.Score, h.Score)
		}
	}
	if worst > 2e-3 {
		t.Errorf("scores differ by up to %.2e relative between f32 and f16 banks", worst)
	}
	t.Logf("f16 bank %d bytes vs %d; scores within %.2e relative of the f32 bank's", sizes["f16"], sizes["f32"], worst)
}
