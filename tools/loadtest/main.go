// Command loadtest measures the scoring service (package service) on
// 127.0.0.1 only, bounded in requests and time: throughput and latency
// at 1, 4, 16 and 64 concurrent clients with batching on and off, beside
// one image scored in-process as the CLI does; a soak that watches the
// heap; and a fault run (malformed, oversize and pixel-bomb images, slow
// clients, clients that hang up mid-request, a bank replaced under load).
//
//	go run ./tools/loadtest [--bank B.tbank --weights DIR] [--duration 5s] [--soak 3m] [--faults] [--json out.json]
//
// Without --bank it fits the shipped hazelnut sample with the default
// model first.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera/tessera/core/dataset"
	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
	"github.com/tessera/tessera/core/patchcore"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/internal/weights"
	"github.com/tessera/tessera/service"
)

func main() {
	bankPath := flag.String("bank", "", "bank to serve (default: fit the shipped hazelnut sample)")
	weightsDir := flag.String("weights", "", "weights folder (default $TESSERA_WEIGHTS or weights/)")
	images := flag.String("data", filepath.Join("site", "sample"), "MVTec-layout category whose test images are posted")
	duration := flag.Duration("duration", 5*time.Second, "time per concurrency level")
	levels := flag.String("clients", "1,4,16,64", "concurrency levels")
	queue := flag.Int("queue", 32, "the service's queue per bank")
	soak := flag.Duration("soak", 0, "also run a soak of this long at 16 clients, watching the heap")
	faults := flag.Bool("faults", false, "also run the fault run")
	jsonOut := flag.String("json", "", "write the results here as JSON")
	flag.Parse()
	if *duration <= 0 || *duration > 5*time.Minute || *soak < 0 || *soak > 30*time.Minute {
		log.Fatal("loadtest: --duration is 0-5m, --soak 0-30m")
	}
	l, err := setup(*bankPath, *weightsDir, *images)
	if err != nil {
		log.Fatalf("loadtest: %v", err)
	}
	res := results{Machine: fmt.Sprintf("%s, %d cores", runtime.GOARCH, runtime.NumCPU()), Model: l.model, BankVectors: l.vectors}
	res.CLIOneImageMS, err = l.oneImage(20)
	if err != nil {
		log.Fatalf("loadtest: %v", err)
	}
	fmt.Printf("one image in-process (as tessera predict scores it): median %.1f ms\n", res.CLIOneImageMS)
	fmt.Printf("%-9s %8s %10s %9s %9s %7s %7s %7s\n", "batching", "clients", "images/s", "p50 ms", "p99 ms", "429s", "other", "batch")
	for _, batch := range []int{8, 1} {
		for _, c := range splitInts(*levels) {
			r, err := l.level(batch, *queue, c, *duration)
			if err != nil {
				log.Fatalf("loadtest: %v", err)
			}
			res.Levels = append(res.Levels, r)
			fmt.Printf("%-9s %8d %10.1f %9.1f %9.1f %7d %7d %7.2f\n", onOff(batch), c, r.ImagesPerS, r.P50MS, r.P99MS, r.Rejected, r.Other, r.MeanBatch)
		}
	}
	if *soak > 0 {
		s, err := l.soak(*soak)
		if err != nil {
			log.Fatalf("loadtest: %v", err)
		}
		res.Soak = &s
		fmt.Printf("soak %v at 16 clients: %d answers, %d other; heap in use after GC %.1f MB at 10%% of the run, %.1f MB at the end; RSS %.1f -> %.1f MB\n",
			*soak, s.OK, s.Other, s.HeapStartMB, s.HeapEndMB, s.RSSStartMB, s.RSSEndMB)
	}
	if *faults {
		f, err := l.faults()
		if err != nil {
			log.Fatalf("loadtest: %v", err)
		}
		res.Faults = f
		for _, k := range sortedKeys(f) {
			fmt.Printf("fault %-26s %v\n", k, f[k])
		}
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			log.Fatalf("loadtest: %v", err)
		}
	}
}

type results struct {
	Machine       string
	Model         string
	BankVectors   int
	CLIOneImageMS float64
	Levels        []level
	Soak          *soakResult               `json:",omitempty"`
	Faults        map[string]map[string]int `json:",omitempty"`
}

type level struct {
	MaxBatch   int
	Clients    int
	ImagesPerS float64
	P50MS      float64
	P99MS      float64
	OK         int
	Rejected   int // 429
	Other      int
	MeanBatch  float64
}

type soakResult struct {
	OK, Other              int
	HeapStartMB, HeapEndMB float64
	RSSStartMB, RSSEndMB   float64
	HeapSamplesMB          []float64
}

// load is what every run shares: the bank, its model and the images.
type load struct {
	bank    []byte
	model   string
	modelAt string
	vectors int
	images  [][]byte
}

func setup(bankPath, weightsDir, imageDir string) (*load, error) {
	l := &load{}
	var err error
	if bankPath == "" {
		l.modelAt, err = weights.Resolve(weights.DefaultModel, weightsDir)
		if err != nil {
			return nil, err
		}
		in, err := inspector.Open(inspector.Model{Path: l.modelAt}, inspector.Options{Backend: "cpu"})
		if err != nil {
			return nil, err
		}
		paths, err := dataset.TrainImages(filepath.Join("site", "sample"))
		if err != nil {
			return nil, fmt.Errorf("%w (run from the repository root, or give --bank)", err)
		}
		if _, err := in.Fit(patchcore.ImageFiles(paths, imageprep.MaxPixels), patchcore.Default(), nil); err != nil {
			return nil, err
		}
		if l.bank, err = in.EncodeBank(); err != nil {
			return nil, err
		}
		in.Close()
	} else if l.bank, err = os.ReadFile(bankPath); err != nil {
		return nil, err
	}
	b, err := bank.Decode(l.bank)
	if err != nil {
		return nil, err
	}
	l.model, l.vectors = b.ModelName, b.N
	if l.modelAt == "" {
		if l.modelAt, err = weights.ResolveName(b.ModelName, weightsDir); err != nil {
			return nil, err
		}
	}
	tests, err := dataset.Test(imageDir)
	if err != nil {
		return nil, err
	}
	for _, t := range tests {
		data, err := os.ReadFile(t.Path)
		if err != nil {
			return nil, err
		}
		l.images = append(l.images, data)
	}
	return l, nil
}

// open is the service's Config.Open: the bank's model on the CPU.
func (l *load) open(batch int) func(b *bank.Bank) (*inspector.Inspector, error) {
	return func(b *bank.Bank) (*inspector.Inspector, error) {
		return inspector.OpenForBank(b, inspector.Model{Path: l.modelAt}, inspector.Options{Backend: "cpu", Batch: batch})
	}
}

// oneImage is the median time to score one image in-process, decode
// included, as tessera predict does per image.
func (l *load) oneImage(runs int) (float64, error) {
	b, err := bank.Decode(l.bank)
	if err != nil {
		return 0, err
	}
	in, err := l.open(1)(b)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	var ms []float64
	for i := 0; i < runs+2; i++ {
		t0 := time.Now()
		img, err := imageprep.Decode(l.images[i%len(l.images)])
		if err != nil {
			return 0, err
		}
		if _, err := in.Predict([]image.Image{img}, inspector.PredictOptions{}); err != nil {
			return 0, err
		}
		if i >= 2 { // after two warm-up runs
			ms = append(ms, time.Since(t0).Seconds()*1e3)
		}
	}
	slices.Sort(ms)
	return inspector.Median(ms), nil
}

// server runs the service on 127.0.0.1 with the bank loaded as "b".
func (l *load) server(cfg service.Config) (*service.Service, string, func(), error) {
	cfg.Open = l.open(cfg.MaxBatch)
	svc, err := service.New(cfg)
	if err != nil {
		return nil, "", nil, err
	}
	if _, err := svc.LoadBank("b", l.bank); err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := svc.HTTPServer()
	go srv.Serve(ln)
	stop := func() { srv.Close(); svc.Close() }
	return svc, "http://" + ln.Addr().String(), stop, nil
}

// level runs clients posting images for d, each waiting for its answer
// before the next; a 429 waits 20 ms.
func (l *load) level(batch, queue, clients int, d time.Duration) (level, error) {
	_, url, stop, err := l.server(service.Config{MaxBatch: batch, MaxWait: 2 * time.Millisecond, QueueSize: queue})
	if err != nil {
		return level{}, err
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: time.Minute}
	r := level{MaxBatch: batch, Clients: clients}
	var mu sync.Mutex
	var lat []float64
	var batches int
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(end); i += clients {
				t0 := time.Now()
				code, v, err := postImage(client, url+"/v1/banks/b/score", l.images[i%len(l.images)])
				ms := time.Since(t0).Seconds() * 1e3
				mu.Lock()
				switch {
				case err == nil && code == 200:
					r.OK++
					lat = append(lat, ms)
					batches += v.Batch
				case err == nil && code == 429:
					r.Rejected++
				default:
					r.Other++
				}
				mu.Unlock()
				if code == 429 {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	t0 := time.Now()
	wg.Wait()
	el := time.Since(t0)
	slices.Sort(lat)
	if len(lat) > 0 {
		r.P50MS, r.P99MS = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		r.MeanBatch = float64(batches) / float64(len(lat))
	}
	r.ImagesPerS = float64(r.OK) / el.Seconds()
	return r, nil
}

func postImage(c *http.Client, url string, img []byte) (int, service.Verdict, error) {
	var v service.Verdict
	resp, err := c.Post(url, "application/octet-stream", bytes.NewReader(img))
	if err != nil {
		return 0, v, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode == 200 {
		err = json.Unmarshal(raw, &v)
	}
	return resp.StatusCode, v, err
}

// soak runs 16 clients with batching for d, sampling the heap in use
// after a collection ten times.
func (l *load) soak(d time.Duration) (soakResult, error) {
	_, url, stop, err := l.server(service.Config{MaxBatch: 8, MaxWait: 2 * time.Millisecond, QueueSize: 32})
	if err != nil {
		return soakResult{}, err
	}
	defer stop()
	var s soakResult
	var ok, other atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: time.Minute}
			for i := c; ; i += 16 {
				select {
				case <-done:
					return
				default:
				}
				code, _, err := postImage(client, url+"/v1/banks/b/score", l.images[i%len(l.images)])
				if err == nil && (code == 200 || code == 429) {
					ok.Add(1)
				} else {
					other.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		time.Sleep(d / 10)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.HeapSamplesMB = append(s.HeapSamplesMB, float64(m.HeapInuse)/(1<<20))
		rss := rssMB()
		if i == 0 {
			s.RSSStartMB = rss
		}
		s.RSSEndMB = rss
	}
	close(done)
	wg.Wait()
	s.OK, s.Other = int(ok.Load()), int(other.Load())
	s.HeapStartMB, s.HeapEndMB = s.HeapSamplesMB[0], s.HeapSamplesMB[len(s.HeapSamplesMB)-1]
	return s, nil
}

// rssMB is the process's resident memory, from /proc (0 elsewhere).
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var kb float64
			fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	return 0
}

// faults runs good clients alongside each kind of bad one, and a bank
// replacement, tallying the answers each got.
func (l *load) faults() (map[string]map[string]int, error) {
	svc, url, stop, err := l.server(service.Config{MaxBatch: 8, MaxWait: 2 * time.Millisecond, QueueSize: 32,
		MaxBodyBytes: 4 << 20, MaxPixels: 4 << 20, RequestTimeout: 3 * time.Second})
	if err != nil {
		return nil, err
	}
	defer stop()
	out := map[string]map[string]int{}
	var mu sync.Mutex
	tally := func(kind, outcome string) {
		mu.Lock()
		defer mu.Unlock()
		if out[kind] == nil {
			out[kind] = map[string]int{}
		}
		out[kind][outcome]++
	}
	score := url + "/v1/banks/b/score"
	client := &http.Client{Timeout: time.Minute}
	send := func(kind string, body []byte) {
		code, _, err := postImage(client, score, body)
		if err != nil {
			tally(kind, "error: "+err.Error())
			return
		}
		tally(kind, fmt.Sprint(code))
	}
	var bomb bytes.Buffer // a small PNG declaring 100 megapixels
	png.Encode(&bomb, image.NewGray(image.Rect(0, 0, 10000, 10000)))
	done := make(chan struct{})
	var wg sync.WaitGroup
	// Good clients all along.
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ; i += 8 {
				select {
				case <-done:
					return
				default:
				}
				send("good image", l.images[i%len(l.images)])
			}
		}()
	}
	var bad sync.WaitGroup
	run := func(n int, f func(i int)) {
		for i := 0; i < n; i++ {
			bad.Add(1)
			go func() { defer bad.Done(); f(i) }()
		}
	}
	run(20, func(i int) { send("malformed bytes", bytes.Repeat([]byte{byte(i), 0x89, 'P'}, 1000)) })
	run(20, func(i int) { send("truncated image", l.images[i%len(l.images)][:len(l.images[i%len(l.images)])/2]) })
	run(10, func(int) { send("oversize body (5 MB)", make([]byte, 5<<20)) })
	run(10, func(int) { send("pixel bomb (100 MP PNG)", bomb.Bytes()) })
	run(4, func(i int) { tally("slow client (1 B/100 ms)", slowClient(url, l.images[i%len(l.images)])) })
	run(10, func(i int) { tally("hangs up mid-body", hangUp(url, l.images[i%len(l.images)])) })
	run(3, func(int) {
		if _, err := svc.LoadBank("b", l.bank); err != nil {
			tally("bank replaced under load", "error: "+err.Error())
		} else {
			tally("bank replaced under load", "replaced")
		}
	})
	bad.Wait()
	close(done)
	wg.Wait()
	return out, nil
}

// slowClient sends the request's body a byte every 100 ms: the server's
// read timeout must end it without holding anything else up.
func slowClient(url string, img []byte) string {
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		return "dial: " + err.Error()
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/banks/b/score HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(img))
	reply := bufio.NewReader(conn)
	for i := 0; i < len(img); i++ {
		if _, err := conn.Write(img[i : i+1]); err != nil {
			return "cut off by the server while sending"
		}
		time.Sleep(100 * time.Millisecond)
		conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := reply.Peek(1); err == nil {
			conn.SetReadDeadline(time.Now().Add(time.Second))
			status, _ := reply.ReadString('\n')
			return "answered while sending: " + strings.TrimSpace(status)
		} else if !isTimeout(err) {
			return "closed by the server while sending"
		}
	}
	return "sent it all"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// hangUp sends half the body and closes the connection.
func hangUp(url string, img []byte) string {
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		return "dial: " + err.Error()
	}
	fmt.Fprintf(conn, "POST /v1/banks/b/score HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(img))
	conn.Write(img[:len(img)/2])
	conn.Close()
	return "hung up"
}

func splitInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err == nil && n > 0 && n <= 256 {
			out = append(out, n)
		}
	}
	return out
}

func onOff(batch int) string {
	if batch > 1 {
		return fmt.Sprintf("on (%d)", batch)
	}
	return "off"
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
