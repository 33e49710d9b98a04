package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/graph"
)

// The permission sections of README.md and PERMISSIONS.md are generated from
// graph.Calls: this fails when one is stale. `go generate ./graph` (or `tapbot
// permissions -write .`) rewrites them.
func TestGeneratedPermissionDocsAreCurrent(t *testing.T) {
	for _, d := range generatedDocs {
		path := filepath.Join("..", "..", d.path)
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := graph.ReplaceGenerated(string(doc), d.block())
		if err != nil {
			t.Fatalf("%s: %v", d.path, err)
		}
		if want != string(doc) {
			t.Errorf("%s differs from what graph.Calls generates, want them equal: run `go generate ./graph` and commit the result", d.path)
		}
	}
}

func TestPermissionsWrite(t *testing.T) {
	root := t.TempDir()
	stale := "# x\n" + graph.GeneratedBegin + "\nold\n" + graph.GeneratedEnd + "\ntail\n"
	for _, d := range generatedDocs {
		p := filepath.Join(root, d.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(stale), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	if code := permissionsCmd([]string{"-write", root}, &out, &errOut); code != 0 {
		t.Fatalf("permissions -write: exit code %d, want 0; stderr: %s", code, errOut.String())
	}
	for _, d := range generatedDocs {
		b, _ := os.ReadFile(filepath.Join(root, d.path))
		if s := string(b); strings.Contains(s, "\nold\n") || !strings.Contains(s, d.block()) || !strings.HasSuffix(s, graph.GeneratedEnd+"\ntail\n") {
			t.Errorf("%s after -write:\n%s\nwant the old block replaced by the generated one and the tail kept", d.path, s)
		}
	}
	out.Reset()
	if code := permissionsCmd(nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "TeamsAppInstallation.ReadWriteSelfForUser.All") {
		t.Errorf("permissions: exit code %d, output:\n%s\nwant code 0 and an output naming TeamsAppInstallation.ReadWriteSelfForUser.All", code, out.String())
	}
}
