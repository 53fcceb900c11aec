package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFreshCloneDemo does what a new user does, with nothing of the
// project's shared material in reach: clone the repository into a scratch
// folder, run `make serve` there, open the page in Chromium and press "Try
// the sample". The default model must load from the clone, and every
// sample test image must come back scored, with a heatmap, the defects
// above the good ones. The screenshot is kept in out/e2e/fresh-clone.png.
func TestFreshCloneDemo(t *testing.T) {
	needBrowser(t)
	_, err := exec.LookPath("git")
	need(t, err, "git")
	_, err = exec.LookPath("make")
	need(t, err, "make")
	repo, _ := filepath.Abs(".")
	if _, err := os.Stat(filepath.Join(repo, ".git")); err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	// A scratch folder with no ../shared beside the clone.
	scratch := t.TempDir()
	clone := filepath.Join(scratch, "t")
	if out, err := exec.Command("git", "clone", "--quiet", repo, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(scratch, "shared")); err == nil {
		t.Fatal("a shared folder is beside the clone")
	}

	addr := freeAddr(t)
	cmd := exec.Command("make", "serve", "ADDR="+addr)
	cmd.Dir = clone
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, _ := os.Create(filepath.Join(scratch, "serve.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	url := "http://" + addr + "/"
	if err := waitHTTP(url, 10*time.Minute, exited); err != nil {
		raw, _ := os.ReadFile(logf.Name())
		t.Fatalf("make serve in the clone: %v\n%s", err, raw)
	}

	out, _ := filepath.Abs(filepath.Join("out", "e2e"))
	os.MkdirAll(out, 0o755)
	shot := filepath.Join(out, "fresh-clone.png")
	var r struct {
		Error    string   `json:"error"`
		ReadyMs  float64  `json:"readyMs"`
		SampleMs float64  `json:"sampleMs"`
		Engine   string   `json:"engine"`
		Model    string   `json:"model"`
		Status   string   `json:"status"`
		Summary  string   `json:"summary"`
		Heatmaps int      `json:"heatmaps"`
		Logs     []string `json:"logs"`
		Results  []struct {
			Name  string  `json:"name"`
			Score float64 `json:"score"`
		} `json:"results"`
	}
	runNode(t, &r, "sample.mjs", url, shot)
	if r.Error != "" {
		t.Fatalf("in the browser: %s\nlogs: %v", r.Error, r.Logs)
	}
	t.Logf("fresh clone: model %s on %s ready in %.1f s; the sample took %.1f s: %s; %s; screenshot %s",
		r.Model, r.Engine, r.ReadyMs/1e3, r.SampleMs/1e3, r.Status, r.Summary, shot)
	if r.Model != "weights/mobilenetv2-layer3.onnx" {
		t.Errorf("default model %q", r.Model)
	}
	if len(r.Results) != 15 || r.Heatmaps != 15 {
		t.Fatalf("%d results and %d heatmaps, want 15 of each", len(r.Results), r.Heatmaps)
	}
	scores := make([]float32, len(r.Results))
	labels := make([]bool, len(r.Results))
	for i, res := range r.Results {
		scores[i], labels[i] = float32(res.Score), !strings.Contains(res.Name, "/good/")
	}
	checkAUROC(t, "in the fresh clone's demo", scores, labels)
}

// cleanEnv is this process's environment without what points at the
// shared material or carries the calling make's variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TESSERA_") || k == "MAKEFLAGS" || k == "MFLAGS" || k == "MAKELEVEL" || k == "SHARED" || k == "WEIGHTS" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// freeAddr returns a loopback address with a port free just now.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP waits until url answers 200, the server's command exits (a
// value on exited), or the time is up.
func waitHTTP(url string, limit time.Duration, exited chan error) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err // for the caller's clean-up
			return fmt.Errorf("exited before serving: %v", err)
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("nothing served at %s within %v", url, limit)
}
