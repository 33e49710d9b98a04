package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const manifestTestAppID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

// readPackage returns manifest.json of the zip at path, and the zip's entry names.
func readPackage(t *testing.T, path string) (map[string]any, []string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	var m map[string]any
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name != "manifest.json" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(rc).Decode(&m)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return m, names
}

func TestManifestCmd(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		env        func(string) string
		wantCode   int
		wantErrOut []string
		check      func(t *testing.T, m map[string]any)
	}{
		{name: "app id from TAPBOT_APP_ID", env: envOf("TAPBOT_APP_ID", manifestTestAppID),
			check: func(t *testing.T, m map[string]any) {
				if m["id"] != manifestTestAppID || m["version"] != "1.0.0" || m["name"].(map[string]any)["short"] != "tapbot" {
					t.Errorf("manifest %v, want id %s, version 1.0.0, short name tapbot", m, manifestTestAppID)
				}
			}},
		{name: "app id from MicrosoftAppId", env: envOf("MicrosoftAppId", manifestTestAppID),
			check: func(t *testing.T, m map[string]any) {
				if m["id"] != manifestTestAppID {
					t.Errorf("id %v, want %s", m["id"], manifestTestAppID)
				}
			}},
		{name: "flag beats environment", args: []string{"-app-id", manifestTestAppID}, env: envOf("TAPBOT_APP_ID", "00000000-0000-0000-0000-000000000001"),
			check: func(t *testing.T, m map[string]any) {
				if m["id"] != manifestTestAppID || m["bots"].([]any)[0].(map[string]any)["botId"] != manifestTestAppID {
					t.Errorf("id %v, bots %v; want id and botId %s", m["id"], m["bots"], manifestTestAppID)
				}
			}},
		{name: "every flag", env: envOf(), args: []string{"-app-id", manifestTestAppID, "-version", "1.2.3", "-name", "Contoso Passes",
			"-developer-name", "Contoso IT", "-website", "https://it.contoso.com", "-privacy", "https://it.contoso.com/privacy",
			"-terms", "https://it.contoso.com/terms", "-accent-color", "#123456", "-domain", "tapbot.contoso.com", "-domain", "*.contoso.net"},
			check: func(t *testing.T, m map[string]any) {
				got, _ := json.Marshal([]any{m["version"], m["name"], m["developer"], m["accentColor"], m["validDomains"]})
				want := `["1.2.3",{"full":"Contoso Passes","short":"Contoso Passes"},` +
					`{"name":"Contoso IT","privacyUrl":"https://it.contoso.com/privacy","termsOfUseUrl":"https://it.contoso.com/terms","websiteUrl":"https://it.contoso.com"},` +
					`"#123456",["tapbot.contoso.com","*.contoso.net"]]`
				if string(got) != want {
					t.Errorf("got  %s\nwant %s", got, want)
				}
			}},
		{name: "no app id", env: envOf(), wantCode: 2, wantErrOut: []string{"invalid settings", "app id: required"}},
		{name: "all problems at once", env: envOf(), wantCode: 2,
			args:       []string{"-app-id", "28:bot", "-version", "1", "-website", "http://contoso.com", "-domain", "https://x.contoso.com"},
			wantErrOut: []string{"  - app id \"28:bot\": not a GUID", "  - version \"1\"", "  - website URL", "  - valid domain"}},
		{name: "unknown flag", env: envOf(), args: []string{"-frob"}, wantCode: 2, wantErrOut: []string{"flag provided but not defined", "Usage: tapbot manifest"}},
		{name: "stray argument", env: envOf(), args: []string{"-app-id", manifestTestAppID, "out.zip"}, wantCode: 2, wantErrOut: []string{`unexpected argument "out.zip"`}},
		{name: "empty output path", env: envOf(), args: []string{"-app-id", manifestTestAppID, "-o", ""}, wantCode: 2, wantErrOut: []string{"-o"}},
		{name: "unwritable output", env: envOf(), args: []string{"-app-id", manifestTestAppID, "-o", filepath.Join(dir, "missing", "x.zip")}, wantCode: 1,
			wantErrOut: []string{"no such file"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "app"+string(rune('a'+i))+".zip")
			args := append([]string{"-o", out}, tt.args...)
			var stdout, stderr bytes.Buffer
			code := manifestCmd(args, tt.env, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tt.wantErrOut {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr:\n%s\nwant it to contain %q", stderr.String(), w)
				}
			}
			if code != 0 {
				if _, err := os.Stat(out); err == nil {
					t.Error("a package was written despite the error")
				}
				return
			}
			if !strings.Contains(stdout.String(), out) {
				t.Errorf("stdout %q, want it to name %s", stdout.String(), out)
			}
			m, names := readPackage(t, out)
			if !slices.Equal(names, []string{"manifest.json", "color.png", "outline.png"}) {
				t.Errorf("zip entries %v, want [manifest.json color.png outline.png]", names)
			}
			tt.check(t, m)
		})
	}
}

func TestManifestCmdDefaultOutputAndHelp(t *testing.T) {
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := manifestCmd(nil, envOf("TAPBOT_APP_ID", manifestTestAppID), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, want 0; stderr: %s", code, stderr.String())
	}
	first, err := os.ReadFile("tapbot-teams-app.zip")
	if err != nil {
		t.Fatal(err)
	}
	// Running it again gives the same bytes and leaves no temporary files behind.
	if code := manifestCmd(nil, envOf("TAPBOT_APP_ID", manifestTestAppID), &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit %d, want 0; stderr: %s", code, stderr.String())
	}
	second, _ := os.ReadFile("tapbot-teams-app.zip")
	if !bytes.Equal(first, second) {
		t.Error("same settings, different package")
	}
	entries, _ := os.ReadDir(".")
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only the package", entries)
	}

	stderr.Reset()
	if code := manifestCmd([]string{"-h"}, envOf(), &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "-domain") {
		t.Fatalf("-h: exit %d, want 0 and a usage naming -domain:\n%s", code, stderr.String())
	}
}
