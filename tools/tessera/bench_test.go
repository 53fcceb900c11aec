package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestBenchRounds times the shipped model in two rounds without ONNX
// Runtime and checks the JSON's figures against each other.
func TestBenchRounds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	if err := runBench([]string{"--weights", "../../weights", "--rounds", "2", "--runs", "2", "--ort=false", "--json", out}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res []benchResult
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results, want 1", len(res))
	}
	r := res[0]
	if !(r.P10MS > 0 && r.P10MS <= r.MedianMS && r.MedianMS <= r.P90MS) || r.ORTMS != 0 || r.Ratio != 0 {
		t.Errorf("result %+v: want 0 < p10 <= median <= p90 and no ONNX Runtime figures", r)
	}
	if want := r.GFLOPs / (r.MedianMS / 1e3); r.GFLOPS < want*0.999 || r.GFLOPS > want*1.001 {
		t.Errorf("GFLOP/s %g, want %g from %g GFLOP in %g ms", r.GFLOPS, want, r.GFLOPs, r.MedianMS)
	}
}
