package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSampleIndex checks site/sample/index.json, which the page reads to
// find the sample (the server lists no folders), against the files: every
// image of train/ and test/ listed once, with its folder as label, and
// nothing listed that is not there.
func TestSampleIndex(t *testing.T) {
	dir := filepath.Join("site", "sample")
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ Path, Label string }
	var idx struct{ Train, Test []entry }
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	for split, listed := range map[string][]entry{"train": idx.Train, "test": idx.Test} {
		files, _ := filepath.Glob(filepath.Join(dir, split, "*", "*.jpg"))
		var want, got []string
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			want = append(want, filepath.ToSlash(rel))
		}
		for _, e := range listed {
			got = append(got, e.Path)
			if filepath.Base(filepath.Dir(e.Path)) != e.Label {
				t.Errorf("%s is labelled %q", e.Path, e.Label)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: index.json lists %v, the folder holds %v", split, got, want)
		}
	}
}
