// Package panics carries a panic from a helper goroutine to the goroutine
// that waits for it. A panic in a goroutine of its own ends the process,
// whatever the caller recovers; raised again in the caller, it reaches the
// caller's recover, where the engine turns it into an error.
package panics

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
)

// Catcher records the first panic among the goroutines it guards.
type Catcher struct {
	first atomic.Pointer[caught]
}

type caught struct {
	value any
	stack []byte
}

// Guard, deferred at the top of a helper goroutine, stops its panic there
// and keeps it for Raise.
func (c *Catcher) Guard() {
	if r := recover(); r != nil {
		c.first.CompareAndSwap(nil, &caught{r, debug.Stack()})
	}
}

// Raise panics again, in the calling goroutine, with the first panic a
// guarded goroutine had, if any; call it once they have all returned.
func (c *Catcher) Raise() {
	if p := c.first.Load(); p != nil {
		panic(fmt.Sprintf("%v [in a helper goroutine]\n%s", p.value, p.stack))
	}
}

// Error turns a recovered value into an error naming what failed, for the
// deferred recover at an API boundary: *err is set when r is not nil.
func Error(r any, what string, err *error) {
	if r != nil {
		*err = fmt.Errorf("%s: internal error: %v", what, r)
	}
}
