package realtime

// What the black-box tests of this package read of a City's insides.

// BatchSubscriber is the interface of a store whose events come in
// batches.
type BatchSubscriber = batchSubscriber

// AlertsSoFar returns the alerts the city has raised.
func (c *City) AlertsSoFar() []Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Alert(nil), c.alerts...)
}

// PublishedGap reports the gap state of zone the city last published, and
// false when it has published none.
func (c *City) PublishedGap(zone string) (gap, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.gaps[zone]
	return g.now, ok
}
