package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgressLines checks the plain report a log gets: a line when a
// stage starts and when it ends, with the rate, and no carriage returns.
func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	p := progressLines(&b, 0)
	for i := 1; i <= 3; i++ {
		p("backbone", i, 3)
	}
	p("coreset", 256, 512)
	p("coreset", 512, 512)
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if strings.Contains(out, "\r") || len(lines) != 7 {
		t.Fatalf("progress lines:\n%q", out)
	}
	for _, want := range []string{"backbone: 0/3", "backbone: 3/3", "images/s", "coreset: 0/512", "picks/s", "s left"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%s", want, out)
		}
	}
}
