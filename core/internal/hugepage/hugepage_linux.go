package hugepage

import "golang.org/x/sys/unix"

// advise is madvise(MADV_HUGEPAGE), so that pages not yet touched fault
// in huge, then madvise(MADV_COLLAPSE) (Linux 6.1 on), so that those the
// Go heap had already touched (memory it reuses) are made huge now
// rather than whenever khugepaged reaches them. Errors (no huge pages in
// this kernel, an older kernel, part of the range unmapped) change
// nothing and are dropped.
func advise(addr, n uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_HUGEPAGE)
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_COLLAPSE)
}
