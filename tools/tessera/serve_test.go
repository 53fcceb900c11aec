package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera/tessera/internal/shared"
)

// TestServeCommand runs tessera serve as a user would: a bank from fit,
// an image posted, the score tessera predict gives (1e-6 relative), and
// SIGTERM stops it cleanly.
func TestServeCommand(t *testing.T) {
	cat := shared.Sample(t)
	weights := filepath.Dir(shared.Weights(t, "mobilenetv2-layer3.onnx"))
	bankPath := filepath.Join(t.TempDir(), "h.tbank")
	var out, errOut bytes.Buffer
	if err := run([]string{"fit", "-q", "--backend", "cpu", "--weights", weights, "--data", cat, "--out", bankPath}, &out, &errOut); err != nil {
		t.Fatalf("fit: %v\n%s", err, errOut.String())
	}
	img := filepath.Join(cat, "test", "colour", "00.jpg")
	out.Reset()
	if err := run([]string{"predict", "--backend", "cpu", "--weights", weights, "--bank", bankPath, img}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var want []prediction
	if err := json.Unmarshal(out.Bytes(), &want); err != nil {
		t.Fatal(err)
	}

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"serve", "--backend", "cpu", "--weights", weights, "--bank", "h=" + bankPath, "--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "listening on "), "/")
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			t.Fatal("not ready after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	data, _ := os.ReadFile(img)
	resp, err := http.Post(base+"/v1/banks/h/score", "image/jpeg", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Score       float64 `json:"score"`
		IsAnomalous bool    `json:"is_anomalous"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if d := got.Score - want[0].Score; d > 1e-6*want[0].Score || -d > 1e-6*want[0].Score || got.IsAnomalous != want[0].IsAnomalous {
		t.Errorf("service: %+v, predict: %+v", got, want[0])
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}

// TestManifestFlags: every flag the Kubernetes manifests pass to tessera
// serve is one it has.
func TestManifestFlags(t *testing.T) {
	var help bytes.Buffer
	run([]string{"serve", "--help"}, io.Discard, &help)
	have := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help.String(), -1) {
		have[m[1]] = true
	}
	if !have["bank"] || !have["max-batch"] {
		t.Fatalf("serve --help lists %v", have)
	}
	files, _ := filepath.Glob("../../deploy/k8s/*.yaml")
	more, _ := filepath.Glob("../../deploy/k8s/*/*.yaml")
	n := 0
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^\s*- --([a-z-]+)=`).FindAllStringSubmatch(string(b), -1) {
			n++
			if !have[m[1]] {
				t.Errorf("%s passes --%s, which tessera serve does not have", f, m[1])
			}
		}
	}
	if n < 5 {
		t.Errorf("found only %d flags in the manifests", n)
	}
}
