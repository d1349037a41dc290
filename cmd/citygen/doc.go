// Command citygen writes the demo city of patrolgrid, the urban area of
// Horqin district in Tongliao, Inner Mongolia, as a patrol plan and a
// synthetic incident history. Everything in it is illustrative and
// approximate, and the output depends on the seed alone: the same seed
// always yields the same bytes.
//
// Usage:
//
//	citygen [-out DIR] [-seed N]
//
// It writes DIR/plan.json and DIR/incidents.csv. The deployment is laid
// out to meet the priority zones' response rules most of the time: fixed
// posts and foot and joint patrols inside the zones, an e-bike circling
// each zone and a vehicle at each of the busiest, the other vehicles over
// the whole town and video patrol away from the zones. The incident
// history is the demand that places those vehicles and balances the areas
// outside the zones.
package main
