package main

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// skipDirs returns the folders, relative to the module root, that hold no
// code of the project's own.
func skipDirs() []string { return []string{"web/node_modules", "web/ui"} }

type fileInfo struct {
	path  string // relative to the root
	lines int
}

type funcInfo struct {
	pos   string // file:line
	name  string // Recv.Name or Name
	lines int
}

type pkgInfo struct {
	dir   string // relative to the root
	name  string
	lines int
	files []fileInfo
	funcs []funcInfo
}

func main() {
	fileMax := flag.Int("file", 600, "report files over this many lines")
	funcMax := flag.Int("func", 80, "report functions over this many lines")
	pkgMax := flag.Int("pkg", 2500, "report packages over this many lines")
	p90Max := flag.Int("p90", 35, "fail when the 90th percentile of function lengths is over this")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: layout [-file N] [-func N] [-pkg N] [-p90 N] MODULE_ROOT")
		os.Exit(2)
	}
	root := flag.Arg(0)
	pkgs, err := scan(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "layout:", err)
		os.Exit(1)
	}
	over := report(os.Stdout, modulePath(root), pkgs, *fileMax, *funcMax, *pkgMax)
	if p90 := percentile(lengths(allFuncs(pkgs)), 0.9); p90 > *p90Max {
		fmt.Printf("\nfunction length p90 %d is over %d\n", p90, *p90Max)
		over = true
	}
	if over {
		os.Exit(1)
	}
}

// allFuncs returns the functions of every package.
func allFuncs(pkgs []*pkgInfo) []funcInfo {
	var all []funcInfo
	for _, p := range pkgs {
		all = append(all, p.funcs...)
	}
	return all
}

// modulePath returns the module path named in root/go.mod, or root.
func modulePath(root string) string {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return root
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return root
}

// scan parses every non-test Go file under root outside the skipped
// folders, grouped by folder and package name.
func scan(root string) ([]*pkgInfo, error) {
	fset := token.NewFileSet()
	byKey := map[string]*pkgInfo{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && skipDir(root, path, rel, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		key := dir + " " + f.Name.Name
		p := byKey[key]
		if p == nil {
			p = &pkgInfo{dir: dir, name: f.Name.Name}
			byKey[key] = p
		}
		n := countLines(src)
		p.lines += n
		p.files = append(p.files, fileInfo{path: rel, lines: n})
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
			p.funcs = append(p.funcs, funcInfo{
				pos:   fmt.Sprintf("%s:%d", rel, start.Line),
				name:  funcName(fn),
				lines: end.Line - start.Line + 1,
			})
		}
		return nil
	})
	pkgs := make([]*pkgInfo, 0, len(byKey))
	for _, p := range byKey {
		pkgs = append(pkgs, p)
	}
	slices.SortFunc(pkgs, func(a, b *pkgInfo) int { return cmp.Or(cmp.Compare(a.dir, b.dir), cmp.Compare(a.name, b.name)) })
	return pkgs, err
}

// skipDir reports whether the folder at path (rel from the root, base
// name name) holds no code of the project's own.
func skipDir(root, path, rel, name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" ||
		name == "node_modules" || slices.Contains(skipDirs(), rel) {
		return true
	}
	_, err := os.Stat(filepath.Join(path, "go.mod")) // a nested module
	return err == nil
}

// countLines returns the number of lines of src, a last line without a
// newline included.
func countLines(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}

// funcName returns Name, or Recv.Name for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		}
		return fn.Name.Name
	}
}

// percentile returns the q-th quantile (0 < q <= 1) of sorted by the
// nearest-rank method, or 0 for none.
func percentile(sorted []int, q float64) int {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func lengths(funcs []funcInfo) []int {
	out := make([]int, len(funcs))
	for i, f := range funcs {
		out[i] = f.lines
	}
	slices.Sort(out)
	return out
}

// report prints the table and the sections, and reports whether anything
// is over its limit.
func report(w *os.File, module string, pkgs []*pkgInfo, fileMax, funcMax, pkgMax int) bool {
	fmt.Fprintf(w, "module %s: non-test Go code (lines of non-_test.go files; function lengths in lines)\n\n", module)
	width := len("all")
	for _, p := range pkgs {
		width = max(width, len(label(module, p)))
	}
	row := func(name string, files, lines int, funcs []funcInfo) {
		l := lengths(funcs)
		fmt.Fprintf(w, "%-*s %5d %6d %5d %4d %4d %4d\n", width, name, files, lines, len(l),
			percentile(l, 0.5), percentile(l, 0.9), percentile(l, 1))
	}
	fmt.Fprintf(w, "%-*s %5s %6s %5s %4s %4s %4s\n", width, "package", "files", "lines", "funcs", "p50", "p90", "max")
	var all []funcInfo
	var total, files int
	for _, p := range pkgs {
		row(label(module, p), len(p.files), p.lines, p.funcs)
		all = append(all, p.funcs...)
		total += p.lines
		files += len(p.files)
	}
	row("all", files, total, all)

	var big []string
	for _, p := range pkgs {
		if p.lines > pkgMax {
			big = append(big, fmt.Sprintf("  %6d  %s", p.lines, label(module, p)))
		}
	}
	section(w, fmt.Sprintf("packages over %d lines", pkgMax), big)

	var longFiles []fileInfo
	var longFuncs []funcInfo
	for _, p := range pkgs {
		for _, f := range p.files {
			if f.lines > fileMax {
				longFiles = append(longFiles, f)
			}
		}
		for _, f := range p.funcs {
			if f.lines > funcMax {
				longFuncs = append(longFuncs, f)
			}
		}
	}
	slices.SortFunc(longFiles, func(a, b fileInfo) int { return cmp.Or(b.lines-a.lines, cmp.Compare(a.path, b.path)) })
	slices.SortFunc(longFuncs, func(a, b funcInfo) int { return cmp.Or(b.lines-a.lines, cmp.Compare(a.pos, b.pos)) })
	var lines []string
	for _, f := range longFiles {
		lines = append(lines, fmt.Sprintf("  %6d  %s", f.lines, f.path))
	}
	section(w, fmt.Sprintf("files over %d lines", fileMax), lines)
	lines = nil
	for _, f := range longFuncs {
		lines = append(lines, fmt.Sprintf("  %6d  %s  %s", f.lines, f.name, f.pos))
	}
	section(w, fmt.Sprintf("functions over %d lines", funcMax), lines)
	return len(big)+len(longFiles)+len(longFuncs) > 0
}

// label names a package by its import path, with its name when that is
// not the folder's (main, or two packages in one folder).
func label(module string, p *pkgInfo) string {
	path := module
	if p.dir != "." {
		path += "/" + p.dir
	}
	if p.name != filepath.Base(p.dir) {
		path += " (" + p.name + ")"
	}
	return path
}

func section(w *os.File, title string, lines []string) {
	fmt.Fprintf(w, "\n%s: %d\n", title, len(lines))
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}
