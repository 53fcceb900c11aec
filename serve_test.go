package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestServer(t *testing.T) {
	site, weights := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(site, "index.html"), []byte("<!doctype html><title>t</title>"), 0o644)
	wasm := make([]byte, 10000) // zeros compress well
	os.WriteFile(filepath.Join(site, "tessera.wasm"), wasm, 0o644)
	os.WriteFile(filepath.Join(weights, "m.onnx"), []byte("onnx bytes"), 0o644)
	os.WriteFile(filepath.Join(weights, "secret.txt"), []byte("no"), 0o644)
	srv := httptest.NewServer(newServer(site, weights))
	defer srv.Close()

	get := func(path string, gz bool) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		// A bare transport does not undo the gzip for us.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	r := get("/tessera.wasm", true)
	if ct := r.Header.Get("Content-Type"); ct != "application/wasm" {
		t.Errorf("wasm served as %q", ct)
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("wasm not compressed")
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if len(body) != len(wasm) {
		t.Errorf("decompressed wasm has %d bytes, want %d", len(body), len(wasm))
	}

	if r := get("/tessera.wasm", false); r.Header.Get("Content-Encoding") != "" {
		t.Errorf("compressed for a client that did not ask")
	}
	if r := get("/weights/m.onnx", false); r.StatusCode != 200 {
		t.Errorf("model: status %d", r.StatusCode)
	}
	// Models go out as they are, with their length: Chromium failed a
	// second concurrent fetch of a gzipped, chunked model with
	// ERR_CACHE_WRITE_FAILURE.
	if r := get("/weights/m.onnx", true); r.Header.Get("Content-Encoding") != "" || r.ContentLength != 10 {
		t.Errorf("model served with encoding %q, length %d; want none, 10", r.Header.Get("Content-Encoding"), r.ContentLength)
	}
	if r := get("/weights/secret.txt", false); r.StatusCode != 404 {
		t.Errorf("non-model file in weights: status %d, want 404", r.StatusCode)
	}
	// Nothing but the folders' own files: no dotfiles, no symbolic link
	// out, no listing of a folder without an index.
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.onnx"), []byte("outside"), 0o644)
	os.Symlink(filepath.Join(outside, "secret.onnx"), filepath.Join(weights, "escape.onnx"))
	os.Symlink(outside, filepath.Join(site, "out"))
	os.WriteFile(filepath.Join(site, ".env"), []byte("TOKEN=1"), 0o644)
	os.Mkdir(filepath.Join(site, "data"), 0o755)
	os.WriteFile(filepath.Join(site, "data", "a.png"), []byte("png"), 0o644)
	os.Symlink("index.html", filepath.Join(site, "home.html"))
	for path, want := range map[string]int{
		"/weights/escape.onnx": 404, "/out/secret.onnx": 404, "/.env": 404, "/data/": 404,
		"/data/a.png": 200, "/home.html": 200, "/": 200,
	} {
		if r := get(path, false); r.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, r.StatusCode, want)
		}
	}

	var list []struct {
		Name string
		Size int64
	}
	json.NewDecoder(get("/weights/index.json", false).Body).Decode(&list)
	if len(list) != 1 || list[0].Name != "m.onnx" || list[0].Size != 10 {
		t.Errorf("model list %+v", list)
	}
}
