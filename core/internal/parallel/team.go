package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera/tessera/core/internal/panics"
)

// spinFor is how long an idle helper keeps polling for the next job before
// it parks. Operators in a forward pass follow each other within
// microseconds, and waking a parked thread costs tens of microseconds on a
// virtual machine, as much as a small operator takes.
const spinFor = 200 * time.Microsecond

// Team runs parallel loops on the calling goroutine plus helpers that
// stay on call between loops: for the CPU backend's operators, which
// follow each other within microseconds, where For's new goroutines per
// loop would cost as much as the loop. Its helpers start on first use.
type Team struct {
	helpers int
	start   sync.Once
	mu      sync.Mutex
	wake    *sync.Cond
	seq     atomic.Uint64 // incremented per published job
	job     atomic.Pointer[job]
	closed  atomic.Bool
}

type job struct {
	n      int64
	f      func(int)
	next   atomic.Int64 // next task index to claim
	done   atomic.Int64 // tasks finished
	caught panics.Catcher
}

// NewTeam makes a team of workers goroutines, the caller included.
func NewTeam(workers int) *Team {
	p := &Team{helpers: workers - 1}
	p.wake = sync.NewCond(&p.mu)
	return p
}

// For runs f(0..n-1), spreading the calls over the helpers and the caller.
func (p *Team) For(n int, f func(int)) {
	if n <= 0 {
		return
	}
	if p.helpers == 0 || n == 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	p.start.Do(func() {
		for i := 0; i < p.helpers; i++ {
			go p.help()
		}
	})
	j := &job{n: int64(n), f: f}
	p.job.Store(j)
	p.mu.Lock()
	p.seq.Add(1)
	p.wake.Broadcast()
	p.mu.Unlock()
	j.run()
	for j.done.Load() < j.n {
		runtime.Gosched()
	}
	// A task that panicked, on a helper or here, panics the caller now
	// that no helper is still in the loop.
	j.caught.Raise()
}

func (j *job) run() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.call(int(i))
		j.done.Add(1)
	}
}

// call runs one task, keeping a panic for For to raise: on a helper it
// would end the process.
func (j *job) call(i int) {
	defer j.caught.Guard()
	j.f(i)
}

func (p *Team) help() {
	var seen uint64
	for {
		idle := time.Now()
		for p.seq.Load() == seen {
			if p.closed.Load() {
				return
			}
			if time.Since(idle) < spinFor {
				runtime.Gosched()
				continue
			}
			p.mu.Lock()
			for p.seq.Load() == seen && !p.closed.Load() {
				p.wake.Wait()
			}
			p.mu.Unlock()
		}
		seen = p.seq.Load()
		if j := p.job.Load(); j != nil {
			j.run()
		}
	}
}

// Close stops the helpers once they finish their current task.
func (p *Team) Close() {
	p.closed.Store(true)
	p.mu.Lock()
	p.wake.Broadcast()
	p.mu.Unlock()
}

// Workers is the number of goroutines For spreads work over.
func (p *Team) Workers() int { return p.helpers + 1 }
