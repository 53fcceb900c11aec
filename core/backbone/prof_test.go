package backbone

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/internal/shared"
)

// TestStepTimes prints where a forward pass spends its time, per operator
// kind, when TESSERA_PROFILE is set. It is a diagnostic, not a check.
func TestStepTimes(t *testing.T) {
	if os.Getenv("TESSERA_PROFILE") == "" {
		t.Skip("set TESSERA_PROFILE=1 to print per-operator times")
	}
	for _, f := range []string{"mobilenetv2-layer3.onnx", "resnet50v2-layer3.onnx"} {
		m, err := LoadFile(shared.Weights(t, f), Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := m.NewExecutor(cpu.New(0))
		if err != nil {
			t.Fatal(err)
		}
		// TESSERA_PROFILE_BATCH images per pass; times are per image.
		batch := 1
		fmt.Sscan(os.Getenv("TESSERA_PROFILE_BATCH"), &batch)
		batch = max(batch, 1)
		x := make([]float32, batch*3*224*224)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		times := map[string]time.Duration{}
		const runs = 20
		for r := 0; r <= runs; r++ {
			_, err := e.run(x, []int{batch, 3, 224, 224}, func(s *step, d time.Duration) {
				if r == 0 {
					return // warm-up
				}
				key := s.op
				if s.op == "Conv" {
					key = fmt.Sprintf("Conv %dx%d/%d g%d", s.conv.KH, s.conv.KW, s.conv.StrideH, s.conv.Group)
					if os.Getenv("TESSERA_PROFILE") == "2" {
						key = fmt.Sprintf("Conv %dx%d/%d g%d M%d K%d N%d", s.conv.KH, s.conv.KW, s.conv.StrideH, s.conv.Group, s.conv.OutC, s.conv.InC/s.conv.Group*s.conv.KH*s.conv.KW, s.shape[2]*s.shape[3])
					}
				}
				times[key] += d
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var keys []string
		for k := range times {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Logf("%s %-20s %.2f ms", f, k, times[k].Seconds()*1e3/runs/float64(batch))
		}
	}
}
