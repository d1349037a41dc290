package store

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// runIncidentsContract runs the incident tests on the stores open opens
// (each of TestStoreContract's), each test in its own city.
func runIncidentsContract(t *testing.T, open storeOpener) {
	runSuite(t, open, []contractTest{
		{"CreateReadList", testIncidentsCreateReadList},
		{"CompareAndSet", testIncidentsCompareAndSet},
		{"Unknown", testIncidentsUnknown},
		{"EventsReachOtherInstances", testIncidentsEvents},
		{"ConcurrentDispatchers", testIncidentsConcurrent},
	})
}

// newIncident is a reported incident at a fixed place.
func newIncident(note string) Incident {
	at := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	return Incident{Lat: 43.617, Lon: 122.2631, Priority: 1, Kind: "theft", Note: note, State: Open,
		Log: []IncidentChange{{State: Open, By: "desk 1", At: at}}}
}

// testIncidentsCreateReadList: new incidents are numbered I1, I2, ... with
// version 1; what is read, here or on another instance, is what was saved,
// line breaks and all; the list is oldest first, I10 after I9.
func testIncidentsCreateReadList(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	var saved []Incident
	for i := range 11 {
		inc, err := s.SaveIncident(ctx, newIncident(fmt.Sprintf("call %d\nsecond line", i)))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("I%d", i+1); inc.ID != want || inc.Version != 1 {
			t.Fatalf("SaveIncident(new) = %s v%d, want %s v1", inc.ID, inc.Version, want)
		}
		saved = append(saved, inc)
	}
	other := open(t, city)
	got, err := other.Incident(ctx, "I3")
	if err != nil || !reflect.DeepEqual(got, saved[2]) {
		t.Fatalf("Incident(I3) = %+v, %v, want %+v", got, err, saved[2])
	}
	list, err := other.ListIncidents(ctx)
	if err != nil || !reflect.DeepEqual(list, saved) {
		t.Fatalf("ListIncidents() = %+v, %v, want %+v", list, err, saved)
	}
}

// testIncidentsCompareAndSet: a save with the version read succeeds and
// adds one; one with a stale version fails and changes nothing.
func testIncidentsCompareAndSet(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	inc, err := s.SaveIncident(ctx, newIncident(""))
	if err != nil {
		t.Fatal(err)
	}
	sent := inc
	sent.State, sent.Unit = Dispatched, "V05"
	sent.Log = append(sent.Log, IncidentChange{State: Dispatched, Unit: "V05", By: "desk 2", At: time.Now().UTC()})
	got, err := s.SaveIncident(ctx, sent)
	if err != nil || got.Version != 2 {
		t.Fatalf("SaveIncident(v1) = v%d, %v, want v2", got.Version, err)
	}
	late := inc
	late.State, late.Unit = Dispatched, "V07"
	if _, err := s.SaveIncident(ctx, late); !errors.Is(err, ErrIncidentVersion) {
		t.Fatalf("SaveIncident(stale v1) = %v, want ErrIncidentVersion", err)
	}
	if now, err := s.Incident(ctx, inc.ID); err != nil || now.Unit != "V05" || now.Version != 2 || len(now.Log) != 2 {
		t.Fatalf("Incident after the stale save = %+v, %v, want V05 at v2 with 2 log entries", now, err)
	}
}

func testIncidentsUnknown(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	for _, id := range []string{"I1", "I0", "x", "", "I01"} {
		if _, err := s.Incident(ctx, id); !errors.Is(err, ErrNoIncident) {
			t.Errorf("Incident(%q) in an empty city = %v, want ErrNoIncident", id, err)
		}
		inc := newIncident("")
		inc.ID, inc.Version = id, 1
		if _, err := s.SaveIncident(ctx, inc); !errors.Is(err, ErrNoIncident) {
			t.Errorf("SaveIncident(%q v1) in an empty city = %v, want ErrNoIncident", id, err)
		}
	}
	if list, err := s.ListIncidents(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListIncidents() = %+v, %v, want none", list, err)
	}
}

// testIncidentsEvents: every save is an event, on this instance and on
// another, in order with status changes.
func testIncidentsEvents(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s, other := open(t, city), open(t, city)
	events, err := other.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := s.SaveIncident(ctx, newIncident(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, "V05", StatusChange{Status: "dispatched", By: "desk 2"}); err != nil {
		t.Fatal(err)
	}
	inc.State, inc.Unit = Dispatched, "V05"
	saved, err := s.SaveIncident(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, events, 3)
	checkEvents(t, got, []string{"incident I1 open", "V05 status dispatched by desk 2", "incident I1 dispatched"})
	if !reflect.DeepEqual(*got[2].Incident, saved) {
		t.Errorf("event incident = %+v, want %+v", *got[2].Incident, saved)
	}
}

// testIncidentsConcurrent: of many dispatchers saving the same version at
// once, exactly one wins.
func testIncidentsConcurrent(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	inc, err := open(t, city).SaveIncident(ctx, newIncident(""))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 8 {
		wg.Go(func() {
			try := inc
			try.State, try.Unit = Dispatched, fmt.Sprintf("V%02d", i)
			_, err := open(t, city).SaveIncident(ctx, try)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrIncidentVersion):
				conflicts++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Errorf("8 concurrent saves of v1: %d won, %d conflicted, want 1 and 7", wins, conflicts)
	}
}
