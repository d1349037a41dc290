// Package geotest holds what the travel models' tests share: the
// benchmark that sets one reverse search against a forward search per
// unit, in the same run so that their ratio holds on a noisy machine.
package geotest
