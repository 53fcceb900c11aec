package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/internal/weights"
	"github.com/tessera/tessera/service"
)

// bankFlags collects repeated --bank NAME=PATH flags.
type bankFlags [][2]string

func (b *bankFlags) String() string { return fmt.Sprint(*b) }

func (b *bankFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=PATH, not %q", v)
	}
	*b = append(*b, [2]string{name, path})
	return nil
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var banks bankFlags
	fs.Var(&banks, "bank", "a bank to serve, as NAME=PATH (repeat for more); PUT /v1/banks/NAME adds or replaces one later")
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	backend := fs.String("backend", "auto", "compute backend: auto (WebGPU on a GPU, else CPU; a GPU that fails moves to the CPU), webgpu, or cpu")
	weightsDir := fs.String("weights", "", "weights folder the banks' models are looked up in (default $TESSERA_WEIGHTS or weights/)")
	d := service.Defaults()
	maxBatch := fs.Int("max-batch", d.MaxBatch, "most images scored in one backbone pass and search (1: no batching)")
	maxWait := fs.Duration("max-wait", d.MaxWait, "how long a batch waits for more requests after its first")
	queue := fs.Int("queue", d.QueueSize, "requests that may wait per bank; more are answered 429")
	maxBody := fs.Int64("max-body", d.MaxBodyBytes, "largest image request body, in bytes")
	maxBank := fs.Int64("max-bank", d.MaxBankBytes, "largest bank file a PUT may send, in bytes")
	maxPixels := fs.Int("max-pixels", imageprep.MaxPixels, "largest image, in pixels (checked from its header before decoding)")
	timeout := fs.Duration("timeout", d.RequestTimeout, "a request's deadline, from arrival to answer")
	tokenFile := fs.String("token-file", "", "file holding the bearer token /v1/ requires (default: none)")
	drain := fs.Duration("drain", 30*time.Second, "on SIGTERM, how long accepted requests have to finish")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q (banks are given with --bank NAME=PATH)", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := service.Config{
		MaxBatch: *maxBatch, MaxWait: *maxWait, QueueSize: *queue, MaxBodyBytes: *maxBody, MaxBankBytes: *maxBank,
		MaxPixels: *maxPixels, RequestTimeout: *timeout, Log: log,
		Open: func(b *bank.Bank) (*inspector.Inspector, error) {
			path, err := weights.ResolveName(b.ModelName, *weightsDir)
			if err != nil {
				return nil, err
			}
			return inspector.OpenForBank(b, inspector.Model{Path: path}, inspector.Options{
				Backend: *backend, Search: patchcore.SearchAuto, Batch: *maxBatch,
				Log: func(msg string) { log.Info(msg, "model", b.ModelName) },
			})
		},
	}
	if *tokenFile != "" {
		tok, err := readToken(*tokenFile)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		cfg.Token = tok
	}
	svc, err := service.New(cfg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// Listen first, so that probes get answers (not ready yet) while the
	// banks load.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := svc.HTTPServer()
	// SIGTERM is caught from here on: before the banks load, it stops
	// the loading too.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(stop)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())
	for _, nb := range banks {
		data, err := readBankFile(nb[1], *maxBank)
		if err == nil {
			_, err = svc.LoadBank(nb[0], data)
		}
		if err != nil {
			srv.Close()
			return fmt.Errorf("serve: bank %s: %w", nb[0], err)
		}
	}
	svc.SetReady(true)
	log.Info("ready", "addr", ln.Addr().String(), "banks", len(banks), "max_batch", *maxBatch, "max_wait", *maxWait, "queue", *queue)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case sig := <-stop:
		log.Info("shutting down: draining accepted requests", "signal", sig.String(), "within", *drain)
	}
	// Not ready, so that a load balancer sends no more; what was accepted
	// is answered before the banks close.
	svc.SetReady(false)
	ctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	err = srv.Shutdown(ctx)
	svc.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: shutting down: %w", err)
	}
	log.Info("stopped")
	return nil
}

// readToken reads a bearer token file: one line, not empty.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("token file %s: want one token on one line", path)
	}
	return tok, nil
}

// readBankFile reads a bank file of at most limit bytes.
func readBankFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > limit {
		return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", path, limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}
