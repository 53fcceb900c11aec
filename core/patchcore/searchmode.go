package patchcore

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/tessera/tessera/core/compute"
	"github.com/tessera/tessera/core/compute/cpu"
	"github.com/tessera/tessera/core/patchcore/bank"
	"github.com/tessera/tessera/core/patchcore/search"
)

// Search says how patches find their nearest bank vectors. Both ways are
// exact: the same neighbours, up to float rounding.
type Search string

const (
	// SearchAuto prunes on the CPU and uses brute force on a GPU, where a
	// plain matrix product over the whole bank is what the device is for.
	SearchAuto Search = "auto"
	// SearchExact is the pruned search of package search, on the CPU.
	SearchExact Search = "exact"
	// SearchBrute multiplies every patch with the whole bank on the
	// extractor's backend: the reference to time the pruned search against.
	SearchBrute Search = "brute"
)

// ParseSearch reads a search mode by name ("" is SearchAuto).
func ParseSearch(s string) (Search, error) {
	switch m := Search(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return SearchAuto, nil
	case SearchAuto, SearchExact, SearchBrute:
		return m, nil
	}
	return "", fmt.Errorf("patchcore: search %q: want auto, exact or brute", s)
}

// pruned reports whether the search on backend be uses the pruned index.
func (s Search) pruned(be compute.Backend) bool {
	switch s {
	case SearchExact:
		return true
	case SearchBrute:
		return false
	}
	_, onCPU := be.(*cpu.Backend)
	return onCPU
}

// newIndex lays a bank out for the pruned search on every core.
func newIndex(b *bank.Bank) (*search.Index, error) {
	opt := search.Options{Workers: runtime.GOMAXPROCS(0)}
	if b.Half != nil {
		return search.NewHalf(b.Half, b.N, b.D, opt)
	}
	return search.New(b.Vectors, b.N, b.D, opt)
}
