// Package patroltest holds plan fixtures for tests: the embedded demo city
// and its grid, and a small square city, about 2.4 × 2.4 km at H3
// resolution 10, with one unit of each mechanism in its quarters; and
// Monaco on the road network of the shared extract, with a plan of as many
// units as a test asks for.
package patroltest
