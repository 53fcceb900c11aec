//go:build js

package webgpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/internal/golden"
)

// TestDeviceLostFallsBack destroys the browser's device between two
// forward passes, as a driver reset would: the executor moves to the CPU
// and says so; without a fallback the run fails as a device failure.
// (wgpu-native's binding has no way to destroy a device, so this runs in
// the browser only.)
func TestDeviceLostFallsBack(t *testing.T) {
	m, x, shape, want := golden.OnCPU(t, golden.MobileNetV2)
	for _, withFallback := range []bool{true, false} {
		g := open(t)
		var logged string
		e, err := m.NewExecutorOn(onDevice(g, withFallback, &logged))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Run(x, shape); err != nil {
			t.Fatal(err)
		}
		g.Destroy()
		got, err := e.Run(x, shape)
		if !withFallback {
			if !errors.Is(err, compute.ErrDevice) {
				t.Errorf("without a fallback: %v, want a device failure", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("with a fallback: %v", err)
		}
		sameFeatures(t, got, want)
		t.Logf("fallback said: %s", logged)
		if !strings.Contains(logged, "continuing on cpu") {
			t.Errorf("fallback message %q", logged)
		}
	}
}
