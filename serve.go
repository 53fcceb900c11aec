// Command serve is Tessera's local static server: the demo page from
// site/ at /, and the model files from the weights folder at /weights/.
//
//	go run serve.go [-addr 127.0.0.1:8080] [-site site] [-weights DIR]
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"log"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	site := flag.String("site", "site", "folder with the static page")
	weights := flag.String("weights", defaultWeights(), "folder with the ONNX models (default $TESSERA_WEIGHTS or weights/)")
	flag.Parse()
	if _, err := os.Stat(filepath.Join(*site, "index.html")); err != nil {
		log.Fatalf("serve: no page to serve: %v (build it with: make site)", err)
	}
	log.Printf("serving %s and models from %s at http://%s/", *site, *weights, *addr)
	log.Fatal(http.ListenAndServe(*addr, newServer(*site, *weights)))
}

func defaultWeights() string {
	if d := os.Getenv("TESSERA_WEIGHTS"); d != "" {
		return d
	}
	return "weights"
}

func init() {
	// Browsers only compile WebAssembly streamed with this type.
	mime.AddExtensionType(".wasm", "application/wasm")
	mime.AddExtensionType(".mjs", "text/javascript")
	mime.AddExtensionType(".onnx", "application/octet-stream")
	mime.AddExtensionType(".tbank", "application/octet-stream")
}

// newServer routes the page and the models.
func newServer(site, weights string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/weights/index.json", func(w http.ResponseWriter, r *http.Request) {
		names, _ := filepath.Glob(filepath.Join(weights, "*.onnx"))
		type model struct {
			Name string `json:"name"`
			Size int64  `json:"size"`
		}
		list := []model{}
		for _, n := range names {
			if fi, err := os.Stat(n); err == nil {
				list = append(list, model{filepath.Base(n), fi.Size()})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		json.NewEncoder(w).Encode(list)
	})
	mux.Handle("/weights/", http.StripPrefix("/weights/", onlyModels(http.FileServer(http.Dir(weights)))))
	mux.Handle("/", http.FileServer(http.Dir(site)))
	return compress(mux)
}

// onlyModels keeps the weights folder from serving anything but models.
func onlyModels(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".onnx") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// compressible lists the types worth gzipping. Images are compressed
// already; ONNX weights shrink by 7% and, gzipped and chunked, made
// Chromium fail a second concurrent fetch of the same model with
// ERR_CACHE_WRITE_FAILURE.
var compressible = []string{".wasm", ".js", ".mjs", ".html", ".css", ".json", ".svg"}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed); return w }}

// compress gzips responses for clients that accept it.
func compress(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ext := filepath.Ext(r.URL.Path)
		if r.URL.Path == "/" || strings.HasSuffix(r.URL.Path, "/") {
			ext = ".html"
		}
		ok := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && r.Header.Get("Range") == ""
		if !ok || !contains(compressible, ext) {
			h.ServeHTTP(w, r)
			return
		}
		gz := gzipPool.Get().(*gzip.Writer)
		defer gzipPool.Put(gz)
		gz.Reset(w)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gw := &gzipResponse{ResponseWriter: w, gz: gz}
		h.ServeHTTP(gw, r)
		if gw.used {
			gz.Close()
		}
	})
}

type gzipResponse struct {
	http.ResponseWriter
	gz   *gzip.Writer
	used bool
}

func (g *gzipResponse) WriteHeader(code int) {
	g.Header().Del("Content-Length") // the compressed length differs
	// Byte ranges would count the uncompressed file.
	g.Header().Del("Accept-Ranges")
	if code == http.StatusNotModified || code == http.StatusNoContent {
		g.Header().Del("Content-Encoding")
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipResponse) Write(b []byte) (int, error) {
	if !g.used {
		g.used = true
		g.Header().Del("Content-Length")
	}
	return g.gz.Write(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
