package compute

import (
	"errors"
	"fmt"
)

// Device is the backend work runs on now and the one to move to when it
// fails as a device (ErrDevice: lost, out of memory, a kernel the driver
// cannot build). One Device is shared by everything a detector keeps on
// the hardware (the network's weights, the search's bank), so that a
// failure moves all of them together: each holder lays its memory out
// again when Generation changes.
//
// A Device is not safe for concurrent use, as a Backend is not.
type Device struct {
	b        Backend
	fallback func() (Backend, error)
	log      func(msg string)
	gen      int
}

// NewDevice runs work on b. fallback, when not nil, opens the backend to
// move to after a device failure of b (once); log, when not nil, is told
// when that happens.
func NewDevice(b Backend, fallback func() (Backend, error), log func(msg string)) *Device {
	return &Device{b: b, fallback: fallback, log: log}
}

// Fixed is a Device that stays on b: its failures reach the caller.
func Fixed(b Backend) *Device { return &Device{b: b} }

// Backend returns the backend that runs work now.
func (d *Device) Backend() Backend { return d.b }

// Generation counts the moves to a fallback: memory laid out on the
// backend of an earlier generation is gone.
func (d *Device) Generation() int { return d.gen }

// CanFailover says whether a fallback is left to move to.
func (d *Device) CanFailover() bool { return d.fallback != nil }

// Failover moves to the fallback backend after cause, a device failure
// of the current one. It returns cause itself when cause is not a device
// failure or no fallback is left: the caller should then give up. After
// a nil return the caller lays its memory out again on Backend() and
// retries.
func (d *Device) Failover(cause error) error {
	open := d.fallback
	if open == nil || !errors.Is(cause, ErrDevice) {
		return cause
	}
	d.fallback = nil
	old := d.b
	nb, err := open()
	if err != nil {
		return fmt.Errorf("%w (and moving off it failed: %v)", cause, err)
	}
	if c, ok := old.(interface{ Close() }); ok {
		c.Close() // free what is left of the failed device's memory
	}
	d.b = nb
	d.gen++
	if d.log != nil {
		d.log(fmt.Sprintf("%s failed (%v); continuing on %s", old.Name(), cause, nb.Name()))
	}
	return nil
}
