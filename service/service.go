// Package service is Tessera's scoring service: memory banks loaded by
// name, images posted to them and scored in batches, over HTTP.
//
//	POST /v1/banks/{name}/score   an image (raw bytes, or multipart field "image") -> JSON verdict
//	GET  /v1/banks                what is loaded
//	PUT  /v1/banks/{name}         load or replace a bank (its file as the body) while serving
//	GET  /healthz, /readyz, /metrics
//
// Concurrent requests for a bank wait in its bounded queue and are run
// through the backbone and the search together, up to MaxBatch at a time
// (dynamic batching); a full queue answers 429 with Retry-After. It is an
// adapter over core/inspector, like the CLI and the browser worker.
package service

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore/bank"
)

// Config sets the service's limits. Zero values take the defaults of
// Defaults.
type Config struct {
	// MaxBatch is the most images run through the backbone at once; 1
	// turns batching off.
	MaxBatch int
	// MaxWait is how long a batch waits for more requests after its first.
	MaxWait time.Duration
	// QueueSize is how many requests may wait per bank; more get 429.
	QueueSize int
	// MaxBodyBytes is the largest request body (an image or a bank file).
	MaxBodyBytes int64
	// MaxBankBytes is the largest bank file PUT accepts.
	MaxBankBytes int64
	// MaxPixels is the largest image, checked from its header.
	MaxPixels int
	// RequestTimeout bounds a request from arrival to answer.
	RequestTimeout time.Duration
	// Token, when not empty, is the bearer token /v1/ requires.
	Token string
	// Open makes the inspector that scores against bank b (the model it
	// names, on the service's backend). Required.
	Open func(b *bank.Bank) (*inspector.Inspector, error)
	// Log receives the service's messages; nil discards them.
	Log *slog.Logger
}

// Defaults are the limits a zero Config gets.
func Defaults() Config {
	return Config{
		MaxBatch: 8, MaxWait: 5 * time.Millisecond, QueueSize: 64,
		MaxBodyBytes: 32 << 20, MaxBankBytes: 1 << 30, MaxPixels: imageprep.MaxPixels,
		RequestTimeout: 30 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := Defaults()
	c.MaxBatch = cmp.Or(c.MaxBatch, d.MaxBatch)
	c.MaxWait = cmp.Or(c.MaxWait, d.MaxWait)
	c.QueueSize = cmp.Or(c.QueueSize, d.QueueSize)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, d.MaxBodyBytes)
	c.MaxBankBytes = cmp.Or(c.MaxBankBytes, d.MaxBankBytes)
	c.MaxPixels = cmp.Or(c.MaxPixels, d.MaxPixels)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, d.RequestTimeout)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Open == nil:
		return errors.New("service: no way to open a bank's model (Config.Open)")
	case c.MaxBatch < 1 || c.MaxBatch > 256:
		return fmt.Errorf("service: max batch %d, want 1 to 256", c.MaxBatch)
	case c.MaxWait < 0 || c.MaxWait > time.Second:
		return fmt.Errorf("service: max wait %v, want 0 to 1s", c.MaxWait)
	case c.QueueSize < 1:
		return fmt.Errorf("service: queue of %d, want at least 1", c.QueueSize)
	case c.MaxBodyBytes < 1 || c.MaxBankBytes < 1 || c.MaxPixels < 1:
		return errors.New("service: body, bank and pixel limits must be positive")
	case c.RequestTimeout <= 0:
		return fmt.Errorf("service: request timeout %v, want a positive duration", c.RequestTimeout)
	}
	return nil
}

// Service holds the loaded banks and answers requests for them.
type Service struct {
	cfg     Config
	metrics *metrics
	mu      sync.RWMutex
	banks   map[string]*scorer
	// ready is set once the banks given at start are loaded and warmed,
	// and cleared when shutting down.
	ready atomic.Bool
	// loading serialises bank loads (each holds a model on the device).
	loading sync.Mutex
}

// New makes a service with no bank yet; LoadBank adds them, then
// SetReady opens /readyz.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, metrics: newMetrics(), banks: map[string]*scorer{}}, nil
}

// SetReady says whether /readyz answers 200.
func (s *Service) SetReady(ok bool) { s.ready.Store(ok) }

// Registry is the service's Prometheus registry (served at /metrics).
func (s *Service) Registry() *prometheus.Registry { return s.metrics.reg }

// bankName is what a bank may be called: it goes in URLs and metric labels.
var bankName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// LoadBank loads (or replaces) the bank called name from a bank file's
// bytes: its model is opened, one image is scored to warm it, and only
// then does it take over. Requests already queued for the old bank are
// answered by it.
func (s *Service) LoadBank(name string, data []byte) (BankInfo, error) {
	if !bankName.MatchString(name) {
		return BankInfo{}, fmt.Errorf("bank name %q: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	b, err := bank.Decode(data)
	if err != nil {
		return BankInfo{}, err
	}
	s.loading.Lock()
	defer s.loading.Unlock()
	in, err := s.cfg.Open(b)
	if err != nil {
		return BankInfo{}, err
	}
	if err := warm(in); err != nil {
		in.Close()
		return BankInfo{}, fmt.Errorf("bank %s: warming up: %w", name, err)
	}
	sc := newScorer(name, in, s.cfg, s.metrics)
	s.mu.Lock()
	old := s.banks[name]
	s.banks[name] = sc
	s.mu.Unlock()
	if old != nil {
		old.retire() // its queue drains on the old bank, then it closes
	}
	s.metrics.backend.WithLabelValues(name, in.Backend()).Set(1)
	s.cfg.Log.Info("bank loaded", "bank", name, "model", b.ModelName, "vectors", b.N, "backend", in.Backend(), "replaced", old != nil)
	return sc.info, nil
}

// Close retires every bank once its queue is answered.
func (s *Service) Close() {
	s.mu.Lock()
	banks := s.banks
	s.banks = map[string]*scorer{}
	s.mu.Unlock()
	for _, sc := range banks {
		sc.retire()
		sc.wait()
	}
}

// BankInfo describes a loaded bank (GET /v1/banks).
type BankInfo struct {
	Name      string   `json:"name"`
	Model     string   `json:"model"`
	Backend   string   `json:"backend"`
	Vectors   int      `json:"vectors"`
	Dim       int      `json:"dim"`
	Layers    []string `json:"layers"`
	Input     [3]int   `json:"input"`
	Threshold float64  `json:"threshold"`
	Created   string   `json:"created"`
	Loaded    string   `json:"loaded"`
}

// Banks lists the loaded banks by name.
func (s *Service) Banks() []BankInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]BankInfo, 0, len(s.banks))
	for _, sc := range s.banks {
		out = append(out, sc.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// scorerFor is the bank called name, nil when none is.
func (s *Service) scorerFor(name string) *scorer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.banks[name]
}

// HTTPServer is an http.Server for the API with the service's timeouts:
// a slow client cannot hold a connection past them.
func (s *Service) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       s.cfg.RequestTimeout,
		WriteTimeout:      s.cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Handler serves the API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/banks/{name}/score", s.api("score", s.score))
	mux.Handle("GET /v1/banks", s.api("banks", s.listBanks))
	mux.Handle("PUT /v1/banks/{name}", s.api("load", s.putBank))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

// api wraps an API handler with the token check, the request deadline
// and the request metrics.
func (s *Service) api(route string, h func(w http.ResponseWriter, r *http.Request) int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		code := s.authorize(w, r)
		if code == 0 {
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
			defer cancel()
			code = h(w, r.WithContext(ctx))
		}
		s.metrics.requests.WithLabelValues(route, fmt.Sprint(code)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(time.Since(t0).Seconds())
	})
}

// authorize checks the bearer token, answering 401 itself; 0 lets the
// request through.
func (s *Service) authorize(w http.ResponseWriter, r *http.Request) int {
	if s.cfg.Token == "" {
		return 0
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1 {
		return 0
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="tessera"`)
	return writeError(w, http.StatusUnauthorized, "a bearer token is required (Authorization: Bearer ...)")
}
