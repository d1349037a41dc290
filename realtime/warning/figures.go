package warning

import (
	"slices"
	"time"
)

// Figures are the dashboard's figures of the loop.
type Figures struct {
	Warnings int `json:"warnings"`
	Closed   int `json:"closed"`
	// ThroughLoop are the closed warnings that went through every step:
	// acknowledged, handled, closed with feedback; Share is their share
	// of the closed ones (0 with none closed).
	ThroughLoop int     `json:"through_loop"`
	Share       float64 `json:"share"`
	// The median time of each step, in seconds: push to acknowledgement,
	// acknowledgement to handling, handling to close; absent (0) with no
	// warning that took the step.
	MedianAckS    float64 `json:"median_ack_s"`
	MedianHandleS float64 `json:"median_handle_s"`
	MedianCloseS  float64 `json:"median_close_s"`
	Escalated     int     `json:"escalated"` // warnings that rose at least once for want of an acknowledgement
}

// Figures returns the book's figures now.
func (b *Book) Figures() Figures { return Summarize(b.List()) }

// Summarize returns the figures of warnings.
func Summarize(warnings []Warning) Figures {
	var f Figures
	var ack, handle, closing []time.Duration
	for _, w := range warnings {
		f.Warnings++
		if len(w.Escalations) > 0 {
			f.Escalated++
		}
		pushed, _ := w.stepAt(Pushed)
		acked, isAcked := w.stepAt(Acknowledged)
		handled, isHandled := w.stepAt(Handling)
		closed, isClosed := w.stepAt(Closed)
		if isAcked {
			ack = append(ack, acked.Sub(pushed))
		}
		if isAcked && isHandled {
			handle = append(handle, handled.Sub(acked))
		}
		if isHandled && isClosed {
			closing = append(closing, closed.Sub(handled))
		}
		if isClosed {
			f.Closed++
			if isAcked && isHandled && w.Feedback != nil {
				f.ThroughLoop++
			}
		}
	}
	if f.Closed > 0 {
		f.Share = float64(f.ThroughLoop) / float64(f.Closed)
	}
	f.MedianAckS, f.MedianHandleS, f.MedianCloseS = median(ack), median(handle), median(closing)
	return f
}

// median returns the median of ds in seconds, 0 for none.
func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2].Seconds()
	}
	return (ds[n/2-1] + ds[n/2]).Seconds() / 2
}
