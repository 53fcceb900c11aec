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
	"io/fs"
	"log"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
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
	// Timeouts, so that slow or idle clients cannot hold connections open;
	// writes get minutes, for a model over a slow link.
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newServer(*site, *weights),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      10 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	log.Fatal(srv.ListenAndServe())
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
	models := folder(weights)
	mux.HandleFunc("/weights/index.json", func(w http.ResponseWriter, r *http.Request) {
		names, _ := filepath.Glob(filepath.Join(weights, "*.onnx"))
		type model struct {
			Name string `json:"name"`
			Size int64  `json:"size"`
		}
		// Only the models the folder serves (see folder).
		list := []model{}
		for _, n := range names {
			f, err := models.Open("/" + filepath.Base(n))
			if err != nil {
				continue
			}
			if fi, err := f.Stat(); err == nil {
				list = append(list, model{filepath.Base(n), fi.Size()})
			}
			f.Close()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		json.NewEncoder(w).Encode(list)
	})
	mux.Handle("/weights/", http.StripPrefix("/weights/", onlyModels(http.FileServer(models))))
	mux.Handle("/", http.FileServer(folder(site)))
	return compress(mux)
}

// folder serves the files under root and nothing else: no dotfiles, no
// symbolic link that leads out of root, no listing of a folder without an
// index.html. Anything refused is simply not found.
func folder(root string) http.FileSystem {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		real = root
	}
	return safeDir{root: real}
}

type safeDir struct{ root string }

func (d safeDir) Open(name string) (http.File, error) {
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return nil, fs.ErrNotExist
		}
	}
	full := filepath.Join(d.root, filepath.FromSlash(path.Clean("/"+name)))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	if real != d.root && !strings.HasPrefix(real, d.root+string(filepath.Separator)) {
		return nil, fs.ErrNotExist
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	st, err := f.Stat()
	if err != nil || (st.IsDir() && !exists(filepath.Join(real, "index.html"))) || (!st.IsDir() && !st.Mode().IsRegular()) {
		f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
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
