// Package ops simulates days of operations of a city: its incident
// history replayed in simulated time through the coverage engine
// (patrol.Coverage), the ranking of units by drive time (dispatch.Ranker)
// and the cost of a dispatch with its move-up (dispatch.Advisor), under
// dispatch policies that are compared by how fast incidents are reached.
//
// A day starts with every unit of the plan at its post, in the status the
// plan gives it. Each incident goes to the available responding unit that
// reaches it first; the unit drives there, spends the service time on
// scene, and drives back to its post, available again as soon as it
// leaves the scene. A unit on its way somewhere is placed at its
// destination with the remaining drive time as slack (see
// patrol.Coverage.Place): its ETA to any cell is that of the destination
// plus the time still to drive, which bounds the real one. With move-ups,
// each dispatch may move one other unit to the post or cell the advisor
// names, unless that unit already moved its share in the past hour; when
// the sent unit is back on duty, the unit that moved up for it drives home.
package ops
