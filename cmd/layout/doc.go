// Command layout checks the shape of a Go module's own non-test code and
// reports it: per package the lines of its non-_test.go files and the
// median, 90th percentile and longest of its functions; every file over
// -file lines; every function or method over -func lines (from the func
// keyword to the closing brace, the doc comment not counted); the packages
// over -pkg lines; and whether the 90th percentile of all functions is
// over -p90. It exits 1 when any limit is passed, so make test keeps the
// code to them.
//
// Usage:
//
//	layout [-file 600] [-func 80] [-pkg 2500] [-p90 35] MODULE_ROOT
//
// It skips hidden folders, vendor, testdata, nested modules, web/ui and
// web/node_modules. It only reads.
package main
