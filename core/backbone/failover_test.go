package backbone_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/backbone"
	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/internal/golden"
)

// failing is a CPU backend whose device "fails" at its convs'th
// convolution, as a lost GPU would: from then on it reports the error.
type failing struct {
	compute.Backend
	convs  int
	err    error
	closed bool
}

func (f *failing) Conv(x compute.Tensor, w compute.Weights, act compute.Activation) compute.Tensor {
	if f.convs--; f.convs == 0 {
		f.err = fmt.Errorf("test device: %w", compute.ErrDeviceLost)
	}
	return f.Backend.Conv(x, w, act)
}

func (f *failing) Err() error   { return f.err }
func (f *failing) Name() string { return "failing test device" }
func (f *failing) Close()       { f.closed = true }

func (f *failing) Download(t compute.Tensor) ([]float32, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.Backend.Download(t)
}

// TestFailover loses the device in the middle of a forward pass: with a
// fallback the executor moves to it, says so, and returns what the CPU
// computes; without one the device's error reaches the caller.
func TestFailover(t *testing.T) {
	m, x, shape, want := golden.OnCPU(t, golden.MobileNetV2)

	dev := &failing{Backend: cpu.New(0), convs: 10}
	var logged []string
	e, err := m.NewExecutorOn(compute.NewDevice(dev,
		func() (compute.Backend, error) { return cpu.New(0), nil },
		func(msg string) { logged = append(logged, msg) }))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Run(x, shape)
	if err != nil {
		t.Fatalf("with a fallback: %v", err)
	}
	for i := range want {
		if golden.RelL2(got[i].Data, want[i].Data) != 0 {
			t.Errorf("%s after failover differs from the CPU's", got[i].Name)
		}
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "device lost") || !strings.Contains(logged[0], "continuing on cpu") {
		t.Errorf("log %q, want one line naming the loss and the new backend", logged)
	}
	if !dev.closed {
		t.Error("the failed backend was not closed")
	}
	if e.Backend() == compute.Backend(dev) {
		t.Error("the executor still runs on the failed backend")
	}

	// No fallback: the error names the device failure.
	e, err = m.NewExecutor(&failing{Backend: cpu.New(0), convs: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(x, shape); !errors.Is(err, compute.ErrDeviceLost) {
		t.Errorf("without a fallback: %v, want a device-lost error", err)
	}

	// Bad input is not a device failure: no move, the input's error.
	dev = &failing{Backend: cpu.New(0), convs: -1}
	e, err = m.NewExecutorOn(compute.NewDevice(dev, func() (compute.Backend, error) { return cpu.New(0), nil }, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(x[:10], []int{1, 3, 2, 5}); err == nil || e.Backend() != compute.Backend(dev) {
		t.Errorf("bad input: err %v, backend %s; want an error and no move", err, e.Backend().Name())
	}
}

// whole is a CPU backend that does not ask for batches in parts.
type whole struct{ compute.Backend }

// ConvAdd is the CPU backend's, so that both runs add residuals alike.
func (w whole) ConvAdd(x compute.Tensor, wt compute.Weights, r compute.Tensor, act compute.Activation, reuse bool) compute.Tensor {
	return w.Backend.(compute.ResidualConv).ConvAdd(x, wt, r, act, reuse)
}

// TestBatchInParts: the CPU backend runs a batch one image at a time
// (compute.PartBatcher); the features are bit for bit those of the whole
// batch at once.
func TestBatchInParts(t *testing.T) {
	m, x, shape, _ := golden.OnCPU(t, golden.MobileNetV2)
	batch := append(append([]float32(nil), x...), x...)
	shape3 := []int{2 * shape[0], shape[1], shape[2], shape[3]}
	var got [2][]backbone.Feature
	for i, be := range []compute.Backend{cpu.New(0), whole{cpu.New(0)}} {
		e, err := m.NewExecutor(be)
		if err != nil {
			t.Fatal(err)
		}
		if got[i], err = e.Run(batch, shape3); err != nil {
			t.Fatal(err)
		}
	}
	for j := range got[0] {
		if fmt.Sprint(got[0][j].Shape) != fmt.Sprint(got[1][j].Shape) {
			t.Fatalf("%s: shape %v in parts, %v whole", got[0][j].Name, got[0][j].Shape, got[1][j].Shape)
		}
		for k := range got[0][j].Data {
			if got[0][j].Data[k] != got[1][j].Data[k] {
				t.Fatalf("%s[%d]: %g in parts, %g whole", got[0][j].Name, k, got[0][j].Data[k], got[1][j].Data[k])
			}
		}
	}
}
