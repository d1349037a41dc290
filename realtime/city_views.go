package realtime

import (
	"encoding/json"
	"fmt"
	"time"
)

// view returns lu as clients see it at now; c.mu is held.
func (c *City) view(lu *liveUnit, now time.Time) UnitView {
	v := UnitView{ID: lu.ID, Name: lu.Name, Mechanism: lu.Mechanism, Status: lu.status, Stale: lu.stage != Fresh,
		Stage: lu.stage, StatusBy: lu.statusBy}
	if !lu.statusAt.IsZero() {
		at := lu.statusAt
		v.StatusAt = &at
	}
	if !lu.hasFix {
		return v
	}
	f := lu.fix
	lat, lon, t := f.Lat(), f.Lon(), f.Time
	age := max(0, now.Sub(t).Seconds())
	v.Lat, v.Lon, v.Time, v.AgeS = &lat, &lon, &t, &age
	v.Source, v.Simulated = f.Source, f.Simulated()
	if f.Heading >= 0 {
		h := f.Heading
		v.Heading = &h
	}
	if f.SpeedMPS >= 0 {
		s := f.SpeedMPS
		v.SpeedMPS = &s
	}
	if cell, ok := c.cov.UnitCell(lu.ID); ok {
		v.Cell = &cell
	}
	v.OffNetwork = c.cov.OffNetwork(lu.ID)
	return v
}

// Units returns every unit in plan order.
func (c *City) Units() []UnitView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	now := c.cfg.Now()
	out := make([]UnitView, len(c.order))
	for i, lu := range c.order {
		out[i] = c.view(lu, now)
	}
	return out
}

// Coverage returns every reached cell.
func (c *City) Coverage() []CellView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	cells := c.cov.Cells()
	out := make([]CellView, len(cells))
	for i, cc := range cells {
		out[i] = NewCellView(cc)
	}
	return out
}

// Zones returns every zone evaluated now.
func (c *City) Zones() []ZoneView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	zs := c.cov.Zones(c.cfg.Now())
	out := make([]ZoneView, len(zs))
	for i, z := range zs {
		out[i] = NewZoneView(z)
	}
	return out
}

// Resolution returns the H3 resolution of coverage cells.
func (c *City) Resolution() int { return c.cov.Grid().Resolution() }

// Subscribe registers a live client whose first message is a snapshot of
// the city; every diff published after the snapshot follows it. Clients
// that connect while nothing changes share one encoded snapshot.
func (c *City) Subscribe() (*Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	if c.snap == nil {
		f, err := c.snapshot()
		if err != nil {
			return nil, err
		}
		c.snap = &f
	}
	return c.hub.Register(*c.snap), nil
}

// snapshot encodes the whole city; c.mu is held.
func (c *City) snapshot() (Frame, error) {
	now := c.cfg.Now()
	msg := Message{Type: "snapshot", Time: now, Seq: c.seq, Resolution: c.Resolution(),
		Alerts: c.alerts}
	for _, lu := range c.order {
		msg.Units = append(msg.Units, c.view(lu, now))
	}
	for _, cc := range c.cov.Cells() {
		msg.Cells = append(msg.Cells, NewCellView(cc))
	}
	for _, z := range c.cov.Zones(now) {
		msg.Zones = append(msg.Zones, NewZoneView(z))
	}
	msg.Incidents = c.recentIncidents(now)
	msg.Warnings = c.cfg.Warnings.Recent(now.Add(-time.Hour))
	return encode(msg)
}

// publish is publishLocked under c.mu.
func (c *City) publish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.publishLocked()
}

// publishLocked broadcasts what changed since the last diff; c.mu is held,
// which orders diffs with the snapshots of new clients.
func (c *City) publishLocked() {
	now := c.cfg.Now()
	msg := Message{Type: "diff", Time: now}
	c.flush()
	for _, cc := range c.cov.Changes() {
		msg.Cells = append(msg.Cells, NewCellView(cc))
	}
	for _, lu := range c.order {
		if c.changed[lu.ID] {
			msg.Units = append(msg.Units, c.view(lu, now))
		}
	}
	clear(c.changed)
	msg.Zones, msg.Alerts = c.zoneChanges(now)
	msg.Incidents = c.incidentChanges()
	msg.Warnings = c.cfg.Warnings.Changes()
	if len(msg.Cells)+len(msg.Units)+len(msg.Zones)+len(msg.Alerts)+len(msg.Incidents)+len(msg.Warnings) == 0 {
		return
	}
	c.seq++
	msg.Seq = c.seq
	f, err := encode(msg)
	if err != nil {
		c.cfg.Logger.Error("encode diff", "err", err)
		return
	}
	c.snap = nil
	c.hub.Broadcast(f)
	c.cfg.Metrics.diff()
}

// encode returns the frame of m as JSON.
func encode(m Message) (Frame, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return Frame{}, fmt.Errorf("realtime: encode %s: %w", m.Type, err)
	}
	return NewFrame(b)
}
