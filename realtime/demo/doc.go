// Package demo is the demo motion: it moves the units of a plan
// plausibly, inside their areas and at their mechanisms' speeds, along the
// streets of a road network when it is given one, as fixes for a
// deployment without live terminals.
//
// Goroutines: Motion.Run owns the loop that steps the motion and hands
// each step's fixes on; it returns when its context ends. New starts none.
package demo
