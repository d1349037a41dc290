// Package patroltest holds plan fixtures for tests: the embedded demo city
// and its grid, and a small square city, about 2.4 × 2.4 km at H3
// resolution 10, with one unit of each mechanism in its quarters.
package patroltest
