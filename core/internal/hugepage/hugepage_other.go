//go:build !linux

package hugepage

// advise does nothing: huge page advice is Linux's.
func advise(addr, n uintptr) {}
