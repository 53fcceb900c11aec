package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/tessera/tessera/core/patchcore"
)

// progressPrinter reports long work: a bar per stage with rate and ETA
// when w is a terminal, else plain lines (a log or CI reads those; a bar's
// carriage returns would only garble it).
func progressPrinter(w io.Writer) patchcore.Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return progressBars(w)
	}
	return progressLines(w, 5*time.Second)
}

// progressBars draws one bar per stage; a new stage finishes the last.
func progressBars(w io.Writer) patchcore.Progress {
	var bar *progressbar.ProgressBar
	stage := ""
	return func(s string, done, total int) {
		if s != stage || bar == nil {
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(w)
			}
			stage = s
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-9s", s)),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString(unit(s)),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionFullWidth(),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
		}
		bar.Set(done)
	}
}

// progressLines prints a line per stage start, at most one per interval
// while it runs, and one when it ends, with the rate and the time left.
func progressLines(w io.Writer, every time.Duration) patchcore.Progress {
	stage := ""
	var start, last time.Time
	return func(s string, done, total int) {
		now := time.Now()
		if s != stage {
			stage, start, last = s, now, now
			fmt.Fprintf(w, "%s: 0/%d\n", s, total)
		}
		if done != total && now.Sub(last) < every {
			return
		}
		last = now
		el := now.Sub(start)
		line := fmt.Sprintf("%s: %d/%d, %.1f s", s, done, total, el.Seconds())
		if done > 0 && el > 0 {
			rate := float64(done) / el.Seconds()
			line += fmt.Sprintf(", %.1f %s/s", rate, unit(s))
			if done < total {
				line += fmt.Sprintf(", about %.0f s left", float64(total-done)/rate)
			}
		}
		fmt.Fprintln(w, line)
	}
}

// unit names what a stage counts.
func unit(stage string) string {
	if stage == "coreset" {
		return "picks"
	}
	return "images"
}
