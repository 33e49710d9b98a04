package bot_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tapbot/tapbot/"

// TestFlowsDoNotImportEachOther keeps each flow readable on its own: a flow is a
// package under bot/ that registers on the router (it imports package bot), and what
// two flows share lives in bot or cards, never in one of them.
func TestFlowsDoNotImportEachOther(t *testing.T) {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{} // flow package path → its imports
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "testdata" {
			continue
		}
		paths := packageImports(t, d.Name())
		if slices.Contains(paths, module+"bot") {
			imports[module+"bot/"+d.Name()] = paths
		}
	}
	for _, want := range []string{"tap", "onboard", "checklist", "audit", "doctor"} {
		if imports[module+"bot/"+want] == nil {
			t.Fatalf("flows found %v, want bot/%s among them", keys(imports), want)
		}
	}
	for flow, paths := range imports {
		for _, p := range paths {
			if _, isFlow := imports[p]; isFlow {
				t.Errorf("%s imports the flow %s, want what they share in bot or cards", flow, p)
			}
		}
	}
}

// packageImports lists the imports of the non-test Go files in dir.
func packageImports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
