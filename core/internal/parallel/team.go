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
	n int64
	f func(int)
	// owned: task i is first offered to worker i*workers/n (contiguous
	// shares), which takes its own in order and then helps with the
	// others'; owners[w] is the next of worker w's share.
	owned  bool
	owners []ownedShare
	next   atomic.Int64 // next task index to claim
	done   atomic.Int64 // tasks finished
	caught panics.Catcher
}

// ownedShare is worker w's tasks [next, end), claimed from the front; on
// a line of its own, as the workers claim tasks at the same time.
type ownedShare struct {
	next atomic.Int64
	end  int64
	_    [48]byte
}

// NewTeam makes a team of workers goroutines, the caller included.
func NewTeam(workers int) *Team {
	p := &Team{helpers: workers - 1}
	p.wake = sync.NewCond(&p.mu)
	return p
}

// ForOwned is For with task i first offered to worker i*Workers()/n:
// each worker runs its own contiguous share, then what is left of the
// others'. A loop whose task i touches the same part of its data in every
// call (the i-th columns of a layer's output) keeps each part on one
// worker from layer to layer, in its caches, where the workers share none
// (two virtual CPUs on different dies of the host: a cache line between
// them took 330 ns a round trip there against 60 on one die).
func (p *Team) ForOwned(n int, f func(int)) {
	if p.helpers == 0 || n <= 1 {
		p.For(n, f) // on the caller alone
		return
	}
	w := int64(p.helpers + 1)
	j := &job{n: int64(n), f: f, owned: true, owners: make([]ownedShare, w)}
	for i := range j.owners {
		j.owners[i].next.Store(int64(i) * j.n / w)
		j.owners[i].end = (int64(i) + 1) * j.n / w
	}
	p.publish(j)
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
	p.publish(&job{n: int64(n), f: f})
}

// publish hands j to the helpers, runs the caller's part and waits for
// the rest.
func (p *Team) publish(j *job) {
	p.start.Do(func() {
		for i := 0; i < p.helpers; i++ {
			go p.help(i + 1)
		}
	})
	p.job.Store(j)
	p.mu.Lock()
	p.seq.Add(1)
	p.wake.Broadcast()
	p.mu.Unlock()
	j.run(0)
	for j.done.Load() < j.n {
		runtime.Gosched()
	}
	// A task that panicked, on a helper or here, panics the caller now
	// that no helper is still in the loop.
	j.caught.Raise()
}

// run does tasks of j as worker w.
func (j *job) run(w int) {
	if j.owned {
		// Its own share first, then the others' in turn.
		for k := range j.owners {
			o := &j.owners[(w+k)%len(j.owners)]
			for {
				i := o.next.Add(1) - 1
				if i >= o.end {
					break
				}
				j.call(int(i))
				j.done.Add(1)
			}
		}
		return
	}
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

func (p *Team) help(w int) {
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
			j.run(w)
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
