package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPercentile(t *testing.T) {
	sorted := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want int
	}{{0.5, 5}, {0.9, 9}, {1, 10}, {0, 1}} {
		if got := percentile(sorted, tc.q); got != tc.want {
			t.Errorf("percentile(1..10, %v) = %d, want %d", tc.q, got, tc.want)
		}
	}
}

// TestScan: a module of one package with a 3-line and a 5-line function
// and a test file, which is not counted.
//
//	m/go.mod
//	m/p/p.go       package p; f (3 lines), g (5 lines)
//	m/p/p_test.go  not counted
func TestScan(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module m\n")
	write("p/p.go", "package p\n\nfunc f() {\n\t_ = 1\n}\n\nfunc g() {\n\t_ = 1\n\t_ = 2\n\t_ = 3\n}\n")
	write("p/p_test.go", "package p\n\nfunc h() {\n}\n")
	pkgs, err := scan(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 {
		t.Fatalf("scan found %d packages, want 1", len(pkgs))
	}
	p := pkgs[0]
	if p.lines != 11 || len(p.files) != 1 {
		t.Errorf("package p: %d lines in %d files, want 11 in 1", p.lines, len(p.files))
	}
	if got := lengths(p.funcs); len(got) != 2 || got[0] != 3 || got[1] != 5 {
		t.Errorf("function lengths %v, want [3 5]", got)
	}
	if got := modulePath(root); got != "m" {
		t.Errorf("modulePath = %q, want m", got)
	}
}
