package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func sprint(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }

func TestRunCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        func(string) string
		wantCode   int
		wantOut    string
		wantErrOut string
	}{
		{"no args", nil, envOf(), 2, "", "Usage:"},
		{"version", []string{"version"}, envOf(), 0, "tapbot ", ""},
		{"checklist content", []string{"checklist-content"}, envOf(), 0, `"welcome"`, ""},
		{"help lists settings", []string{"help"}, envOf(), 0, "MicrosoftAppPassword", ""},
		{"unknown", []string{"frobnicate"}, envOf(), 2, "", `unknown command "frobnicate"`},
		{"serve with no config", []string{"serve"}, envOf(), 2, "", "invalid configuration"},
		{"dev on a public address", []string{"dev"}, envOf("TAPBOT_LISTEN_ADDR", "0.0.0.0:3978"), 2, "", "loopback"},
		{"stray argument", []string{"dev", "--port=1"}, envOf(), 2, "", "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, tt.env, &out, &errOut)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errOut.String(), tt.wantErrOut) {
				t.Fatalf("run(%q): exit code %d, want %d\nstdout (want it to contain %q):\n%s\nstderr (want it to contain %q):\n%s",
					tt.args, code, tt.wantCode, tt.wantOut, out.String(), tt.wantErrOut, errOut.String())
			}
		})
	}
}

func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	var errOut bytes.Buffer
	if code := run([]string{"healthcheck"}, envOf("TAPBOT_LISTEN_ADDR", ":"+port), io.Discard, &errOut); code != 0 {
		t.Fatalf("healthcheck, healthy server: exit code %d, want 0; stderr: %s", code, errOut.String())
	}
	srv.Close()
	if code := run([]string{"healthcheck"}, envOf("TAPBOT_LISTEN_ADDR", ":"+port), io.Discard, &errOut); code != 1 {
		t.Fatalf("healthcheck, server down: exit code %d, want 1", code)
	}
}
