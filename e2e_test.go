package main

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/metrics"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/internal/shared"
)

type e2eResult struct {
	Error     string  `json:"error"`
	ReadyMs   float64 `json:"readyMs"`
	Engine    string  `json:"engine"`
	FitMs     float64 `json:"fitMs"`
	FitStatus string  `json:"fitStatus"`
	PredictMs float64 `json:"predictMs"`
	Results   []struct {
		Name  string  `json:"name"`
		Score float64 `json:"score"`
		Ms    float64 `json:"ms"`
	} `json:"results"`
	Heatmaps   int    `json:"heatmaps"`
	Screenshot string `json:"screenshot"`
	Bank       string `json:"bank"`
	API        []struct {
		Score   float64 `json:"score"`
		MapSize []int   `json:"mapSize"`
	} `json:"api"`
	Logs []string `json:"logs"`
}

// need skips the test for a missing tool, or fails it under CI, where the
// tool must be there.
func need(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s unavailable under CI: %v", what, err)
		}
		t.Skipf("%s unavailable: %v", what, err)
	}
}

// needBrowser checks for what drives the browser tests: Node, Playwright
// and Debian's Chromium.
func needBrowser(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	_, err := exec.LookPath("node")
	need(t, err, "node")
	_, err = os.Stat(filepath.Join("tools", "browsertest", "node_modules", "playwright-core"))
	need(t, err, "playwright-core (npm install --prefix tools/browsertest)")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, err = os.Stat(chromium)
	need(t, err, "Debian's chromium")
}

// runNode runs a browser-driving script of tools/browsertest with node and
// decodes the JSON it prints into out.
func runNode(t *testing.T, out any, script string, args ...string) {
	t.Helper()
	cmd := exec.Command("node", append([]string{filepath.Join("tools", "browsertest", script)}, args...)...)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s output: %v\n%s", script, err, raw)
	}
}

// sampleLists writes the shipped sample's training images and its first n
// test images (all when n <= 0) into dir as lists, one path a line, for
// the browser scripts, and returns the lists and the test images.
func sampleLists(t *testing.T, dir string, n int) (trainList, testList string, test []dataset.Sample) {
	t.Helper()
	cat := shared.Sample(t)
	train, err := dataset.TrainImages(cat)
	if err != nil {
		t.Fatal(err)
	}
	if test, err = dataset.Test(cat); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		test = test[:min(n, len(test))]
	}
	var paths []string
	for _, s := range test {
		paths = append(paths, s.Path)
	}
	trainList, testList = filepath.Join(dir, "train.txt"), filepath.Join(dir, "test.txt")
	if err := os.WriteFile(trainList, []byte(strings.Join(train, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(testList, []byte(strings.Join(paths, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return trainList, testList, test
}

// serveHTTP serves h on a loopback port until the test ends.
func serveHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

// checkAUROC fails the test when the image AUROC of scores is below 0.9.
func checkAUROC(t *testing.T, where string, scores []float32, labels []bool) {
	t.Helper()
	auroc, err := metrics.AUROC(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image AUROC %s: %.3f", where, auroc)
	if auroc < 0.9 {
		t.Errorf("image AUROC %.3f %s, want >= 0.9", auroc, where)
	}
}

// TestBrowserEndToEnd serves the demo, fits and predicts on the hazelnut sample
// in headless Chromium through the page, and checks the scores against
// the labels and against the native engine on the bank the page saved.
func TestBrowserEndToEnd(t *testing.T) {
	needBrowser(t)
	for _, f := range []string{"tessera.wasm", "page.wasm", "wasm_exec.js"} {
		_, err := os.Stat(filepath.Join("site", f))
		need(t, err, "the browser build (make site)")
	}

	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	// Screenshots and the browser's banks are kept as artifacts in out/e2e
	// (git-ignored), or where TESSERA_E2E_OUT says.
	out := os.Getenv("TESSERA_E2E_OUT")
	if out == "" {
		out, _ = filepath.Abs(filepath.Join("out", "e2e"))
	}
	trainList, testList, test := sampleLists(t, t.TempDir(), 0)
	var testPaths []string
	var labels []bool
	for _, s := range test {
		testPaths = append(testPaths, s.Path)
		labels = append(labels, s.Label)
	}
	url := serveHTTP(t, newServer("site", weights))

	for _, backend := range []string{"cpu"} {
		t.Run(backend, func(t *testing.T) {
			var r e2eResult
			runNode(t, &r, "e2e.mjs", url, out, backend, trainList, testList)
			if r.Error != "" {
				t.Fatalf("in the browser: %s\nlogs: %v", r.Error, r.Logs)
			}
			t.Logf("engine %s: ready %.0f ms, fit %.1f s (%s), predict %.1f s for %d images; screenshot %s",
				r.Engine, r.ReadyMs, r.FitMs/1e3, r.FitStatus, r.PredictMs/1e3, len(r.Results), r.Screenshot)
			// Chromium validates relaxed SIMD: the page's default kernels.
			if !strings.Contains(r.Engine, "wasm relaxed simd") {
				t.Errorf("the page runs %s, want the relaxed SIMD kernels", r.Engine)
			}
			if len(r.Results) != len(test) || r.Heatmaps != len(test) {
				t.Fatalf("%d results and %d heatmaps for %d test images", len(r.Results), r.Heatmaps, len(test))
			}
			scores := make([]float32, len(r.Results))
			for i, res := range r.Results {
				scores[i] = float32(res.Score)
			}
			checkAUROC(t, "in the browser", scores, labels)
			// The JS API, on the reloaded bank, agrees with the page.
			for i, a := range r.API {
				if math.Abs(a.Score-r.Results[i].Score) > 1e-4*math.Abs(r.Results[i].Score) || len(a.MapSize) != 3 || a.MapSize[2] != 224*224 {
					t.Errorf("API on the reloaded bank, image %d: %+v vs page %g", i, a, r.Results[i].Score)
				}
			}
			compareNative(t, r.Bank, filepath.Join(weights, "mobilenetv2-layer3.onnx"), testPaths, scores)
			// The page ran the relaxed kernels; the portable and the
			// SIMD128 ones must agree with them.
			compareAPI(t, url, r.Bank, "cpu", "off", 1e-5, testPaths, scores)
			compareAPI(t, url, r.Bank, "cpu", "simd128", 1e-5, testPaths, scores)
			compareAPI(t, url, r.Bank, "webgpu", "auto", 1e-4, testPaths, scores)
		})
	}
}

// compareAPI scores a few images in Chromium through the JS API, with the
// given backend and CPU kernels, on the bank the page saved: the scores
// must match the page's within tol relative. WebGPU there is SwiftShader,
// minutes per dozen images, hence a few.
func compareAPI(t *testing.T, url, bankPath, backend, simd string, tol float64, images []string, pageScores []float32) {
	picks := []int{0, len(images) - 1, len(images) / 2}
	args := []string{url, bankPath, backend, simd}
	for _, i := range picks {
		args = append(args, images[i])
	}
	var r struct {
		Error  string    `json:"error"`
		Logs   []string  `json:"logs"`
		Engine string    `json:"engine"`
		Scores []float64 `json:"scores"`
		Ms     []float64 `json:"ms"`
	}
	runNode(t, &r, "score.mjs", args...)
	if backend == "webgpu" && strings.Contains(r.Error, "no GPU adapter") && os.Getenv("TESSERA_REQUIRE_WEBGPU") != "1" {
		t.Logf("WebGPU in the browser skipped: %s", r.Error)
		return
	}
	if r.Error != "" {
		t.Fatalf("%s (simd %s) in the browser: %s\npage log:\n%s", backend, simd, r.Error, strings.Join(r.Logs, "\n"))
	}
	if backend == "cpu" && !strings.Contains(r.Engine, map[string]string{"off": ", go)", "simd128": "wasm simd128", "relaxed": "wasm relaxed simd"}[simd]) {
		t.Errorf("simd %s ran as %s", simd, r.Engine)
	}
	for j, i := range picks {
		rel := math.Abs(r.Scores[j]-float64(pageScores[i])) / float64(pageScores[i])
		t.Logf("%s: %s score %g (page %g, relative %.1e, %.0f ms)", r.Engine, filepath.Base(images[i]), r.Scores[j], pageScores[i], rel, r.Ms[j])
		if rel > tol {
			t.Errorf("%s scores %s %g, the page %g: relative %.1e > %.0e", r.Engine, images[i], r.Scores[j], pageScores[i], rel, tol)
		}
	}
}

// TestBrowserPool fits the sample through the JS API with one engine and
// with a pool of two, in Chromium: the pool splits the backbone and the
// held-out scoring over its engines and must make the same bank (size and
// threshold) and the same scores, predicting its images all at once. Both
// fit with bankPrecision 'f16', and their saved banks must be f16-sized.
func TestBrowserPool(t *testing.T) {
	needBrowser(t)
	_, err := os.Stat(filepath.Join("site", "tessera.wasm"))
	need(t, err, "the browser build (make site)")
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	trainList, testList, test := sampleLists(t, t.TempDir(), 6)
	url := serveHTTP(t, newServer("site", weights))

	type run struct {
		Workers         int
		Engine          string
		FitMs           float64
		PredictMs       float64
		BankSize        int
		Threshold       float64
		TrainImages     int
		Scores          []float64
		MemoryBytes     []float64
		ImagesPerSecond float64
		BankBytes       int
	}
	var r struct {
		Error     string
		Logs      []string
		Runs      map[string]run
		BadOption string
	}
	// Both fits store their banks at half precision (bankPrecision: 'f16').
	runNode(t, &r, "pool.mjs", url, "2", trainList, testList, "f16")
	if r.Error != "" {
		t.Fatalf("in the browser: %s\nlogs: %v", r.Error, r.Logs)
	}
	if want := "args.options.k: want a whole number, not string;"; r.BadOption != want+want {
		t.Errorf("fit with k 'three' said %q, want %q from one engine and from the pool", r.BadOption, want)
	}
	one, pool := r.Runs["1"], r.Runs["2"]
	for _, x := range []run{one, pool} {
		t.Logf("%d worker(s), %s: fit %.1f s, %d images predicted together in %.1f s, backbone %.1f images/s; wasm memory per engine %v MB",
			x.Workers, x.Engine, x.FitMs/1e3, len(x.Scores), x.PredictMs/1e3, x.ImagesPerSecond, mb(x.MemoryBytes))
	}
	if one.Workers != 1 || pool.Workers != 2 || len(pool.MemoryBytes) != 2 {
		t.Fatalf("ran %d and %d workers (%d memory figures), want 1 and 2", one.Workers, pool.Workers, len(pool.MemoryBytes))
	}
	if pool.BankSize != one.BankSize || pool.TrainImages != one.TrainImages || pool.Threshold != one.Threshold {
		t.Errorf("pool bank: %d vectors from %d images, threshold %g; one engine: %d from %d, %g",
			pool.BankSize, pool.TrainImages, pool.Threshold, one.BankSize, one.TrainImages, one.Threshold)
	}
	for _, x := range []run{one, pool} {
		// An f16 bank: 2 bytes a value of its 1024-value vectors, plus a header.
		if half := 2 * 1024 * x.BankSize; x.BankBytes <= half || x.BankBytes > half+1<<16 {
			t.Errorf("%d worker(s): the f16 bank of %d vectors is %d bytes, want just over %d", x.Workers, x.BankSize, x.BankBytes, half)
		}
	}
	if len(pool.Scores) != len(test) || len(one.Scores) != len(test) {
		t.Fatalf("%d and %d scores for %d images", len(one.Scores), len(pool.Scores), len(test))
	}
	for i := range one.Scores {
		if pool.Scores[i] != one.Scores[i] {
			t.Errorf("%s: the pool scores %g, one engine %g", test[i].Path, pool.Scores[i], one.Scores[i])
		}
	}
}

func mb(bytes []float64) []int {
	out := make([]int, len(bytes))
	for i, b := range bytes {
		out[i] = int(b / (1 << 20))
	}
	return out
}

// compareNative scores the images with the native engine and the bank the
// browser saved: the two must agree within 1e-5 relative.
func compareNative(t *testing.T, bankPath, model string, images []string, browser []float32) {
	b, err := bank.ReadFile(bankPath)
	if err != nil {
		t.Fatalf("the browser's bank: %v", err)
	}
	in, err := inspector.OpenForBank(b, inspector.Model{Path: model}, inspector.Options{Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, p := range images {
		img, err := imageprep.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := in.Predict([]image.Image{img}, inspector.PredictOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rel := math.Abs(rs[0].Score-float64(browser[i])) / math.Abs(rs[0].Score)
		worst = math.Max(worst, rel)
	}
	t.Logf("browser vs native scores on the browser's bank: worst relative difference %.2e", worst)
	if worst > 1e-5 {
		t.Errorf("browser and native scores differ by up to %.2e relative, want <= 1e-5", worst)
	}
}

// TestBrowserLoadsCLIBank: a bank made by the CLI with non-default layers,
// resize and crop, stored at half precision, loads in the browser's engine, which loads the model
// again for those layers and that input size, and scores as the CLI does
// (1e-5 relative); so does a bank of whole images padded into 256x192,
// scoring BMP files.
func TestBrowserLoadsCLIBank(t *testing.T) {
	needBrowser(t)
	_, err := os.Stat(filepath.Join("site", "tessera.wasm"))
	need(t, err, "the browser build (make site)")
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	dir := t.TempDir()
	cli := filepath.Join(dir, "tessera")
	if out, err := exec.Command("go", "build", "-o", cli, "./tools/tessera").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	_, _, test := sampleLists(t, dir, 6)
	url := serveHTTP(t, newServer("site", weights))
	// Non-default layers, resize, crop and precision; then the whole
	// image padded into a non-square input, the images sent as BMP files.
	for i, flags := range [][]string{
		{"--layers", "layer3", "--resize", "240", "--crop", "192", "--bank-precision", "f16"},
		{"--fit", "pad", "--size", "256x192"},
	} {
		bankPath := filepath.Join(dir, fmt.Sprintf("cli%d.tbank", i))
		fit := append([]string{"fit", "-q", "--weights", weights, "--data", shared.Sample(t), "--out", bankPath}, flags...)
		if out, err := exec.Command(cli, fit...).CombinedOutput(); err != nil {
			t.Fatalf("fit %v: %v\n%s", flags, err, out)
		}
		var images []string
		for j, s := range test {
			p := s.Path
			if i == 1 {
				p = filepath.Join(dir, fmt.Sprintf("test%d.bmp", j))
				writeBMP(t, s.Path, p)
			}
			images = append(images, p)
		}
		out, err := exec.Command(cli, append([]string{"predict", "--weights", weights, "--bank", bankPath}, images...)...).Output()
		if err != nil {
			t.Fatalf("predict: %v\n%s", err, out)
		}
		var preds []struct{ Score float64 }
		if err := json.Unmarshal(out, &preds); err != nil || len(preds) != len(images) {
			t.Fatalf("predict printed %s (%v)", out, err)
		}
		scores := make([]float32, len(preds))
		for j, p := range preds {
			scores[j] = float32(p.Score)
		}
		compareAPI(t, url, bankPath, "cpu", "auto", 1e-5, images, scores)
	}
}

// writeBMP writes the image at src as a BMP file at dst.
func writeBMP(t *testing.T, src, dst string) {
	t.Helper()
	img, err := imageprep.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
