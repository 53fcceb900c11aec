package service_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/internal/shared"
	"github.com/tessera/tessera/service"
)

// fixture is a bank fitted on the shipped hazelnut sample, its file's
// bytes, and the sample's test images as files.
type fixture struct {
	model  string
	bank   []byte
	images [][]byte
	paths  []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cat := shared.Sample(t)
	f := &fixture{model: shared.Weights(t, "mobilenetv2-layer3.onnx")}
	in, err := inspector.Open(inspector.Model{Path: f.model}, inspector.Options{Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	paths, err := dataset.TrainImages(cat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Fit(patchcore.ImageFiles(paths, imageprep.MaxPixels), patchcore.Default(), nil); err != nil {
		t.Fatal(err)
	}
	if f.bank, err = in.EncodeBank(); err != nil {
		t.Fatal(err)
	}
	tests, err := dataset.Test(cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range tests {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		f.images = append(f.images, b)
		f.paths = append(f.paths, s.Path)
	}
	return f
}

// open is the service's Config.Open for the fixture's model.
func (f *fixture) open(batch int) func(b *bank.Bank) (*inspector.Inspector, error) {
	return func(b *bank.Bank) (*inspector.Inspector, error) {
		return inspector.OpenForBank(b, inspector.Model{Path: f.model}, inspector.Options{Backend: "cpu", Batch: batch})
	}
}

func (f *fixture) serve(t *testing.T, cfg service.Config) (*service.Service, *httptest.Server) {
	t.Helper()
	if cfg.Open == nil {
		cfg.Open = f.open(max(cfg.MaxBatch, 8))
	}
	svc, err := service.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LoadBank("hazelnut", f.bank); err != nil {
		t.Fatal(err)
	}
	svc.SetReady(true)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() { srv.Close(); svc.Close() })
	return svc, srv
}

func post(t *testing.T, url string, body []byte) (int, service.Verdict, string) {
	t.Helper()
	resp, err := http.Post(url, "image/jpeg", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v service.Verdict
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("reply %q: %v", raw, err)
		}
	}
	return resp.StatusCode, v, string(raw)
}

// TestScoresMatchPredict: every test image scored by the service, one at
// a time and all at once (batched), has the score the inspector gives on
// the same bank (1e-6 relative), and the batched requests were batched.
func TestScoresMatchPredict(t *testing.T) {
	f := newFixture(t)
	b, err := bank.Decode(f.bank)
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.open(1)(b)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(f.images))
	for i, p := range f.paths {
		img, err := imageprep.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := in.Predict([]image.Image{img}, inspector.PredictOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ps[0].Score
	}
	_, srv := f.serve(t, service.Config{MaxBatch: 8, MaxWait: 200 * time.Millisecond})
	url := srv.URL + "/v1/banks/hazelnut/score"
	check := func(how string, i int, v service.Verdict) {
		if math.Abs(v.Score-want[i]) > 1e-6*want[i] {
			t.Errorf("%s: %s scores %g, the inspector %g", how, f.paths[i], v.Score, want[i])
		}
		if v.IsAnomalous != (want[i] > b.Threshold) || v.Threshold != b.Threshold {
			t.Errorf("%s: %s verdict %v at threshold %g", how, f.paths[i], v.IsAnomalous, v.Threshold)
		}
	}
	for i := range f.images[:3] {
		code, v, raw := post(t, url, f.images[i])
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, raw)
		}
		check("alone", i, v)
	}
	var wg sync.WaitGroup
	verdicts := make([]service.Verdict, len(f.images))
	for i := range f.images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, v, raw := post(t, url, f.images[i])
			if code != http.StatusOK {
				t.Errorf("%d %s", code, raw)
			}
			verdicts[i] = v
		}()
	}
	wg.Wait()
	largest := 0
	for i, v := range verdicts {
		check("together", i, v)
		largest = max(largest, v.Batch)
	}
	if largest < 2 {
		t.Errorf("%d requests at once were never batched (largest batch %d)", len(f.images), largest)
	}
}

// TestRefusals: each kind of bad request gets its own status and a
// message naming the problem, and the service keeps serving.
func TestRefusals(t *testing.T) {
	f := newFixture(t)
	_, srv := f.serve(t, service.Config{MaxBodyBytes: 1 << 20, MaxPixels: 600 * 600, Token: "s3cret"})
	url := srv.URL + "/v1/banks/hazelnut/score"
	do := func(method, url, token, ctype string, body []byte) (int, string) {
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var e struct{ Error string }
		if resp.StatusCode != 200 && json.Unmarshal(raw, &e) == nil {
			return resp.StatusCode, e.Error
		}
		return resp.StatusCode, string(raw)
	}
	var big bytes.Buffer
	png.Encode(&big, image.NewGray(image.Rect(0, 0, 700, 700)))
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("picture", "x.jpg")
	fw.Write(f.images[0])
	mw.Close()
	for _, c := range []struct {
		name, method, url, token, ctype string
		body                            []byte
		code                            int
		says                            string
	}{
		{"no token", "POST", url, "", "", f.images[0], 401, "bearer token"},
		{"wrong token", "POST", url, "guess", "", f.images[0], 401, "bearer token"},
		{"not an image", "POST", url, "s3cret", "", []byte("hello"), 400, "cannot decode"},
		{"empty body", "POST", url, "s3cret", "", nil, 400, "empty body"},
		{"body too big", "POST", url, "s3cret", "", make([]byte, 2<<20), 413, "too large"},
		{"too many pixels", "POST", url, "s3cret", "", big.Bytes(), 413, "over the limit"},
		{"no such bank", "POST", srv.URL + "/v1/banks/nope/score", "s3cret", "", f.images[0], 404, `no bank "nope"`},
		{"bad map format", "POST", url + "?map=jpeg", "s3cret", "", f.images[0], 400, "want png or f32"},
		{"multipart without image", "POST", url, "s3cret", mw.FormDataContentType(), mp.Bytes(), 400, `no field "image"`},
		{"bank that is not one", "PUT", srv.URL + "/v1/banks/other", "s3cret", "", []byte("TBNKxxxx"), 422, "bank"},
		{"bad bank name", "PUT", srv.URL + "/v1/banks/-x", "s3cret", "", f.bank, 422, "bank name"},
	} {
		code, body := do(c.method, c.url, c.token, c.ctype, c.body)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.name, code, body, c.code, c.says)
		}
	}
	// Still serving, with a map of each kind.
	for _, format := range []string{"png", "f32"} {
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("image", "x.jpg")
		fw.Write(f.images[0])
		mw.Close()
		code, body := do("POST", url+"?map="+format, "s3cret", mw.FormDataContentType(), mp.Bytes())
		var v service.Verdict
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v.Map == nil {
			t.Fatalf("map=%s: %d %.200s", format, code, body)
		}
		data, err := base64.StdEncoding.DecodeString(v.Map.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch format {
		case "png":
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil || img.Bounds().Dx() != v.Map.Width || v.Map.Width != 224 {
				t.Errorf("png map: %v, %v", err, img.Bounds())
			}
		case "f32":
			vals := make([]float32, len(data)/4)
			binary.Read(bytes.NewReader(data), binary.LittleEndian, vals)
			top := float32(0)
			for _, x := range vals {
				top = max(top, x)
			}
			if len(vals) != v.Map.Width*v.Map.Height || top <= 0 {
				t.Errorf("f32 map: %d values for %dx%d, largest %g", len(vals), v.Map.Width, v.Map.Height, top)
			}
		}
	}
}

// TestOverloadAndReplace: with a queue of 4 and batches of 1, a burst of
// requests gets answers or 429s with Retry-After, nothing else; a bank
// replaced while requests are in flight answers every one of them.
func TestOverloadAndReplace(t *testing.T) {
	f := newFixture(t)
	svc, srv := f.serve(t, service.Config{MaxBatch: 1, QueueSize: 4})
	url := srv.URL + "/v1/banks/hazelnut/score"
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url, "image/jpeg", bytes.NewReader(f.images[i%len(f.images)]))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
		if i == 12 {
			// Replaced mid-burst: requests queued on the old bank finish there.
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.LoadBank("hazelnut", f.bank); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("codes: %v", codes)
	if codes[200] == 0 || codes[429] == 0 || codes[200]+codes[429] != 24 {
		t.Errorf("codes %v: want answers and 429s only", codes)
	}
	if banks := svc.Banks(); len(banks) != 1 {
		t.Errorf("%d banks after the replacement", len(banks))
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`tessera_requests_total{code="429",route="score"}`, "tessera_batch_size_bucket", "tessera_queue_depth", `tessera_backend_info{backend="cpu`, "tessera_request_duration_seconds_bucket"} {
		if !strings.Contains(string(raw), m) {
			t.Errorf("/metrics has no %s", m)
		}
	}
	if n := strings.Count(string(raw), fmt.Sprintf(`code="%d",route="score"`, 200)); n != 1 {
		t.Errorf("200s counted %d times", n)
	}
}

// TestReadiness: /readyz answers 503 until the service says it is ready.
func TestReadiness(t *testing.T) {
	f := newFixture(t)
	svc, err := service.New(service.Config{Open: f.open(8)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	get := func(p string) int {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("/healthz") != 200 || get("/readyz") != 503 {
		t.Error("before loading: want healthz 200, readyz 503")
	}
	if _, err := svc.LoadBank("h", f.bank); err != nil {
		t.Fatal(err)
	}
	svc.SetReady(true)
	if get("/readyz") != 200 {
		t.Error("readyz not 200 once ready")
	}
	svc.Close()
}
