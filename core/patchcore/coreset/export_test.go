package coreset

// LegacySelect is the previous selector, for the external tests.
var LegacySelect = legacySelect
