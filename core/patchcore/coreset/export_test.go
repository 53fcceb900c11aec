package coreset

// LegacySelect is the previous selector, and Greedy the plain greedy loop
// without pruning, for the external tests.
var (
	LegacySelect = legacySelect
	Greedy       = greedy
)
