// Package store holds the live state of a city, shared by every server
// instance that serves it: each unit's latest fix and status, the history
// of accepted fixes, a feed of changes in the order they were applied
// (Store), and the city's active plan, saved by compare-and-set on its
// version (Plans).
//
// Two implementations keep one contract, which one suite tests against
// both (store_contract_test.go, plans_contract_test.go): Memory, in the
// process, for a single instance, and Redis, for any number of instances
// through a single node, a Sentinel-managed master or a Cluster, with a
// city's keys in one hash slot (see Redis for the layout and
// NewRedisClient for the URLs). Only a fix newer than a unit's stored one
// becomes its latest, so instances may write the same unit at once.
//
// Goroutines: each subscription (Subscribe, Memory.SubscribeBatches) owns
// one, started by the call and ended with its context, after which its
// channel is closed. Concurrent Redis Appends are stored together by one
// of their callers (a group commit), not by a goroutine of the store's.
// Constructors start none and do no I/O.
package store
