package hugepage

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestFloatsGetsHugePages allocates a buffer of several huge pages and
// checks, in /proc/self/smaps, that the mapping holding it has huge pages
// once it is written, where the kernel offers them to madvise.
func TestFloatsGetsHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("no transparent huge pages here (%q, %v)", mode, err)
	}
	s := Floats(8 << 20) // 32 MiB
	for i, v := range s {
		if v != 0 {
			t.Fatalf("[%d] = %g, want a zeroed buffer", i, v)
		}
		s[i] = 1
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	huge, err := anonHugeKB(addr)
	if err != nil {
		t.Fatal(err)
	}
	if huge == 0 {
		t.Errorf("the mapping at %#x has no huge pages after advice", addr)
	}
	t.Logf("%d kB of huge pages in the buffer's mapping", huge)
}

// anonHugeKB is the AnonHugePages of the mapping holding addr.
func anonHugeKB(addr uintptr) (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		// A mapping's header starts "lo-hi"; its fields ("Rss:", ...) do not.
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			var kb int
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, "AnonHugePages:"), "%d", &kb); err != nil {
				return 0, fmt.Errorf("smaps line %q: %w", line, err)
			}
			return kb, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no mapping in /proc/self/smaps holds %#x", addr)
}
