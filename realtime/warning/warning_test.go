package warning

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// TestLoop: a gap warning nobody acknowledges rises a level every 2
// minutes up to red; once acknowledged it rises no more; handled and
// closed with feedback, each step has its time and actor, and the
// figures count it through the loop with the median time of each step.
// A second push of an open warning is that warning; steps out of order,
// unknown warnings and closes without an outcome are refused.
func TestLoop(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)
	clock := realtimetest.NewClock(t0)
	b := NewBook(Config{Now: clock.Now})
	w := b.Push("gap", "Z05", Blue, "system")
	if w.ID != "W1" || w.State != Pushed || w.Level != Blue || w.Steps[0].By != "system" || !w.Steps[0].At.Equal(t0) {
		t.Fatalf("Push = %+v", w)
	}
	if again := b.Push("gap", "Z05", Blue, "system"); again.ID != "W1" || len(b.List()) != 1 {
		t.Errorf("a second push of the open warning = %s, %d warnings; want W1 alone", again.ID, len(b.List()))
	}
	for i, want := range []Level{Blue, Yellow, Orange, Red, Red} {
		clock.Set(t0.Add(time.Duration(i)*2*time.Minute + time.Second))
		b.Escalate()
		if got := b.List()[0].Level; got != want {
			t.Errorf("after %d min: level %s, want %s", i*2, got, want)
		}
	}
	clock.Set(t0.Add(9 * time.Minute))
	if _, err := b.Handle("W1", "station-3", ""); !errors.Is(err, ErrState) {
		t.Errorf("handling a pushed warning = %v, want ErrState", err)
	}
	if _, err := b.Acknowledge("W1", "dispatcher:desk-2"); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(12 * time.Minute))
	if n := len(b.Escalate()); n != 0 {
		t.Errorf("an acknowledged warning rose %d times", n)
	}
	if _, err := b.Handle("W1", "station-3", "unit V12 sent to the night market"); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(30 * time.Minute))
	if _, err := b.Close("W1", "station-3", Feedback{}); !errors.Is(err, ErrFeedback) {
		t.Errorf("close without an outcome = %v, want ErrFeedback", err)
	}
	closed, err := b.Close("W1", "station-3", Feedback{Outcome: "resolved", Note: "crowd dispersed"})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, s := range closed.Steps {
		steps = append(steps, string(s.State)+" by "+s.By+" at "+s.At.Sub(t0).String())
	}
	want := "pushed by system at 0s; acknowledged by dispatcher:desk-2 at 9m0s; handling by station-3 at 12m0s; closed by station-3 at 30m0s"
	if got := strings.Join(steps, "; "); got != want || closed.Level != Red || len(closed.Escalations) != 3 || closed.Feedback.Outcome != "resolved" {
		t.Errorf("closed warning: %s, level %s, %d escalations, feedback %+v; want %s, red, 3", got, closed.Level, len(closed.Escalations), closed.Feedback, want)
	}
	if _, err := b.Acknowledge("W1", "x"); !errors.Is(err, ErrState) {
		t.Errorf("acknowledging a closed warning = %v, want ErrState", err)
	}
	if _, err := b.Acknowledge("W9", "x"); !errors.Is(err, ErrUnknown) {
		t.Errorf("an unknown warning = %v, want ErrUnknown", err)
	}
	// A lost unit's warning closed straight from pushed: not through the loop.
	b.Push("lost", "V07", Yellow, "system")
	if _, err := b.Close("W2", "dispatcher:desk-2", Feedback{Outcome: "false_alarm"}); err != nil {
		t.Fatal(err)
	}
	f := b.Figures()
	if f.Warnings != 2 || f.Closed != 2 || f.ThroughLoop != 1 || f.Share != 0.5 || f.MedianAckS != 540 || f.MedianHandleS != 180 ||
		f.MedianCloseS != 1080 || f.Escalated != 1 {
		t.Errorf("figures = %+v", f)
	}
	j, _ := json.Marshal(closed)
	if !strings.Contains(string(j), `"level":"red"`) || !strings.Contains(string(j), `"from":"blue","to":"yellow"`) {
		t.Errorf("JSON %s, want levels by name", j)
	}
}

// TestChangesAndRecent: Changes hands out each pushed or changed warning
// once; Recent has the open ones and those closed since the time asked.
func TestChangesAndRecent(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)
	clock := realtimetest.NewClock(t0)
	b := NewBook(Config{Now: clock.Now})
	b.Push("gap", "Z05", Orange, "system")
	b.Push("lost", "V07", Yellow, "system")
	if got := b.Changes(); len(got) != 2 || got[0].ID != "W1" || got[1].ID != "W2" {
		t.Fatalf("Changes = %+v, want W1 and W2", got)
	}
	if got := b.Changes(); got != nil {
		t.Errorf("Changes again = %+v, want none", got)
	}
	clock.Set(t0.Add(time.Minute))
	if _, err := b.Close("W2", "desk", Feedback{Outcome: "resolved"}); err != nil {
		t.Fatal(err)
	}
	if got := b.Changes(); len(got) != 1 || got[0].ID != "W2" || got[0].State != Closed {
		t.Errorf("Changes after a close = %+v, want W2 closed", got)
	}
	if got := b.Recent(t0.Add(2 * time.Minute)); len(got) != 1 || got[0].ID != "W1" {
		t.Errorf("Recent after the close = %+v, want W1 alone", got)
	}
	if got := b.Recent(t0); len(got) != 2 {
		t.Errorf("Recent before the close = %d warnings, want 2", len(got))
	}
}
