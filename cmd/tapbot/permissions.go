package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tapbot/tapbot/graph"
)

// generatedDocs are the documents whose permission sections are generated from the
// permission table (graph.Calls), relative to the repository root.
var generatedDocs = []struct {
	path  string
	block func() string
}{
	{"README.md", graph.ReadmeMarkdown},
	{filepath.Join("graph", "msgraph", "PERMISSIONS.md"), graph.PermissionsMarkdown},
}

// permissionsCmd prints tapbot's permission table as markdown, or with -write
// rewrites the generated sections of README.md and graph/msgraph/PERMISSIONS.md
// under the repository root given (go generate ./graph runs it).
func permissionsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("permissions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	write := fs.Bool("write", false, "rewrite the generated sections of README.md and graph/msgraph/PERMISSIONS.md")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !*write {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "tapbot permissions: a directory only goes with -write")
			return 2
		}
		fmt.Fprint(stdout, graph.PermissionsMarkdown())
		return 0
	}
	root := "."
	switch fs.NArg() {
	case 0:
	case 1:
		root = fs.Arg(0)
	default:
		fmt.Fprintln(stderr, "tapbot permissions -write takes one directory: the repository root")
		return 2
	}
	for _, d := range generatedDocs {
		path := filepath.Join(root, d.path)
		old, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "tapbot permissions: %v\n", err)
			return 1
		}
		doc, err := graph.ReplaceGenerated(string(old), d.block())
		if err != nil {
			fmt.Fprintf(stderr, "tapbot permissions: %s: %v\n", path, err)
			return 1
		}
		if doc == string(old) {
			continue
		}
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			fmt.Fprintf(stderr, "tapbot permissions: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "rewrote %s\n", path)
	}
	return 0
}
