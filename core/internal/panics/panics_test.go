package panics

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestRaiseInCaller(t *testing.T) {
	run := func() (err error) {
		defer func() { Error(recover(), "test", &err) }()
		var c Catcher
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Guard()
				if i == 2 {
					var m map[string]int
					m["boom"] = 1 // a nil-map write panics
				}
			}()
		}
		wg.Wait()
		c.Raise()
		return nil
	}
	err := run()
	if err == nil || !strings.Contains(err.Error(), "test: internal error: assignment to entry in nil map") || !strings.Contains(err.Error(), "helper goroutine") {
		t.Errorf("error %v", err)
	}
	var none error
	func() {
		defer func() { Error(recover(), "quiet", &none) }()
		var c Catcher
		c.Raise()
	}()
	if !errors.Is(none, nil) {
		t.Errorf("no panic gave %v", none)
	}
}
