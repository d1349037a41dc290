// Package planner is the planners' side of patrolgrid: it scores a plan's
// unit areas and posts against a city's demand on the travel times the
// live engine uses (Evaluate), so that two plans can be compared by the
// coverage they give, the backup they leave, how evenly they share the
// work and how compact their areas are.
package planner
