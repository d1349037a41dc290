// Package dispatch chooses units for incidents: it ranks the available
// units of a city by their drive time to an incident on the travel model
// coverage uses, with one reverse search per travel profile rather than
// one search per unit. Points are orb.Point values in (lon, lat) order.
package dispatch
