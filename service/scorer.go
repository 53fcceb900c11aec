package service

import (
	"context"
	"errors"
	"image"
	"sync"
	"time"

	"github.com/tessera/tessera/core/imageprep"
	"github.com/tessera/tessera/core/inspector"
)

// scorer is one loaded bank: its inspector, owned by one goroutine that
// takes queued requests in batches.
type scorer struct {
	name string
	in   *inspector.Inspector
	cfg  Config
	m    *metrics
	info BankInfo

	mu      sync.RWMutex // guards retired against sends on a closed queue
	retired bool
	queue   chan *job
	stopped chan struct{}
	// failovers is the inspector's count as last reported.
	failovers int
}

// job is one image waiting to be scored.
type job struct {
	ctx      context.Context
	img      image.Image
	enqueued time.Time
	done     chan outcome // buffered: the scorer never waits on a caller
}

type outcome struct {
	p      inspector.Prediction
	batch  int           // images scored together
	queued time.Duration // from enqueue to the batch's start
	ran    time.Duration // the batch's backbone, search and maps
	prep   imageprep.Config
	err    error
}

var (
	errQueueFull = errors.New("the bank's queue is full")
	errRetired   = errors.New("the bank was replaced")
)

func newScorer(name string, in *inspector.Inspector, cfg Config, m *metrics) *scorer {
	info := in.Info()
	b := in.Bank()
	sc := &scorer{
		name: name, in: in, cfg: cfg, m: m,
		info: BankInfo{
			Name: name, Model: b.ModelName, Backend: info.Backend, Vectors: b.N, Dim: b.D,
			Layers: b.Layers, Input: info.Input, Threshold: b.Threshold, Created: b.Created,
			Loaded: time.Now().UTC().Format(time.RFC3339),
		},
		queue:   make(chan *job, cfg.QueueSize),
		stopped: make(chan struct{}),
	}
	go sc.run()
	return sc
}

// submit queues j, or says why it cannot.
func (sc *scorer) submit(j *job) error {
	sc.mu.RLock()
	defer sc.mu.RUnlock()
	if sc.retired {
		return errRetired
	}
	select {
	case sc.queue <- j:
		sc.m.queueDepth.WithLabelValues(sc.name).Set(float64(len(sc.queue)))
		return nil
	default:
		return errQueueFull
	}
}

// full says whether the queue has no room now.
func (sc *scorer) full() bool { return len(sc.queue) >= cap(sc.queue) }

// retire takes no more requests; those queued are still answered, then
// the inspector closes.
func (sc *scorer) retire() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if !sc.retired {
		sc.retired = true
		close(sc.queue)
	}
}

// wait returns once the scorer has answered its queue and closed.
func (sc *scorer) wait() { <-sc.stopped }

// run answers the queue in batches: a batch starts with the first waiting
// request and takes whatever else arrives within MaxWait, up to MaxBatch.
func (sc *scorer) run() {
	defer close(sc.stopped)
	defer sc.in.Close()
	for first := range sc.queue {
		batch := []*job{first}
		deadline := time.NewTimer(sc.cfg.MaxWait)
	gather:
		for len(batch) < sc.cfg.MaxBatch {
			select {
			case j, ok := <-sc.queue:
				if !ok {
					break gather
				}
				batch = append(batch, j)
			case <-deadline.C:
				break gather
			}
		}
		deadline.Stop()
		sc.m.queueDepth.WithLabelValues(sc.name).Set(float64(len(sc.queue)))
		sc.score(batch)
	}
}

// score runs a batch, skipping requests whose deadline passed in the
// queue. A batch that fails is run again one image at a time, so that one
// bad image fails alone.
func (sc *scorer) score(batch []*job) {
	live := batch[:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- outcome{err: err}
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	t0 := time.Now()
	imgs := make([]image.Image, len(live))
	for i, j := range live {
		imgs[i] = j.img
	}
	ps, err := sc.in.Predict(imgs, inspector.PredictOptions{})
	ran := time.Since(t0)
	sc.noteFailovers()
	if err != nil && len(live) > 1 {
		for _, j := range live {
			sc.score([]*job{j})
		}
		return
	}
	sc.m.batchSize.WithLabelValues(sc.name).Observe(float64(len(live)))
	for i, j := range live {
		o := outcome{batch: len(live), queued: t0.Sub(j.enqueued), ran: ran, prep: sc.in.Bank().Prep, err: err}
		if err == nil {
			o.p = ps[i]
		}
		j.done <- o
	}
}

// noteFailovers counts device failures the inspector moved past, and
// updates the backend in use.
func (sc *scorer) noteFailovers() {
	if n := sc.in.Failovers(); n != sc.failovers {
		sc.m.fallbacks.WithLabelValues(sc.name).Add(float64(n - sc.failovers))
		sc.failovers = n
		sc.m.backend.DeletePartialMatch(map[string]string{"bank": sc.name})
		sc.m.backend.WithLabelValues(sc.name, sc.in.Backend()).Set(1)
		sc.cfg.Log.Warn("device failed; scoring continues on the fallback", "bank", sc.name, "backend", sc.in.Backend())
	}
}
