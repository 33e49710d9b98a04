package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/botauth"
)

// The documentation names settings and their defaults, commands and flags, make
// targets, directories, Go identifiers and tests. The tests in this file hold each
// of those names to the code, so that a rename or a removal fails here instead of
// leaving a page that sends the next reader astray. They read the repository from
// its root, two levels up.

const repoRoot = "../.."

// docs are the pages checked: the operator's and the developer's documentation.
var docs = []string{"README.md", "docs/architecture.md", "docs/flow.md", "docs/security.md", "e2e/README.md"}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the part of a Markdown page under the "## "+heading line, up to
// the next heading of that level.
func section(t *testing.T, page, md, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(md, "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("%s has no section %q, want one", page, "## "+heading)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

var tableRule = regexp.MustCompile(`^\|[\s:|-]+\|$`)

// tableRows returns the body rows of the Markdown tables in md, each split into
// trimmed cells. A | inside a code span does not split.
func tableRows(md string) [][]string {
	var rows [][]string
	lines := strings.Split(md, "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		header := i+1 < len(lines) && tableRule.MatchString(strings.TrimSpace(lines[i+1]))
		if !strings.HasPrefix(line, "|") || tableRule.MatchString(line) || header {
			continue
		}
		var cells []string
		var cell strings.Builder
		inCode := false
		for _, r := range line[1:] {
			switch {
			case r == '`':
				inCode = !inCode
			case r == '|' && !inCode:
				cells = append(cells, strings.TrimSpace(cell.String()))
				cell.Reset()
				continue
			}
			cell.WriteRune(r)
		}
		rows = append(rows, cells)
	}
	return rows
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// spans returns the code a Markdown page shows: each line of its fenced blocks and
// each inline code span (a span broken over two lines is joined with a space).
func spans(md string) []string {
	var out []string
	var prose strings.Builder
	inFence := false
	for line := range strings.SplitSeq(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			out = append(out, line)
		} else {
			prose.WriteString(line + "\n")
		}
	}
	for _, m := range codeSpan.FindAllStringSubmatch(prose.String(), -1) {
		out = append(out, strings.Join(strings.Fields(m[1]), " "))
	}
	return out
}

// cited returns the backticked names in a cell: "`a` (`b`)" is [a b].
func cited(cell string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// The README's configuration table is the operator's reference. Every row must be a
// setting tapbot reads, with the aliases it accepts, and the default the code
// applies. (That every setting has a row is TestReadmeDocumentsEverySetting's.)
func TestReadmeConfigurationTableMatchesTheCode(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	byName := map[string]setting{}
	for _, s := range settings {
		byName[s.names[0]] = s
	}
	defaults := map[string]string{} // first name → the row's default cell
	for _, row := range tableRows(section(t, "README.md", readme, "Configuration")) {
		if len(row) != 3 {
			t.Errorf("README configuration row %q has %d cells, want 3 (variable, default, meaning)", row, len(row))
			continue
		}
		names := cited(row[0])
		if len(names) == 0 {
			t.Errorf("README configuration row %q names no variable, want `NAME` first", row)
			continue
		}
		s, ok := byName[names[0]]
		if !ok {
			t.Errorf("README configuration table has a row for %s, which tapbot does not read: want only the settings of cmd/tapbot/config.go", names[0])
			continue
		}
		if !slices.Equal(names, s.names) {
			t.Errorf("README configuration row names %v, want %v (the name and the aliases tapbot accepts)", names, s.names)
		}
		defaults[names[0]] = row[1]
	}

	// What the code applies when nothing is set.
	serveCfg, err := loadConfig(false, serveEnv("MicrosoftAppPassword", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	devCfg, err := loadConfig(true, envOf())
	if err != nil {
		t.Fatal(err)
	}
	var verify []string
	for _, p := range serveCfg.Verify {
		verify = append(verify, string(p))
	}
	applied := map[string][]string{
		"TAPBOT_LISTEN_ADDR":         {serveCfg.ListenAddr, devCfg.ListenAddr},
		"TAPBOT_APP_TYPE":            {serveCfg.AppType},
		"TAPBOT_OPENID_METADATA_URL": {serveCfg.MetadataURL, botauth.DefaultMetadataURL},
		"TAPBOT_TOKEN_ISSUERS":       {botauth.DefaultIssuer},
		"TAPBOT_GRAPH_URL":           {serveCfg.GraphURL},
		"TAPBOT_TIMEZONE":            {serveCfg.TimeZone.String()},
		"TAPBOT_TAP_REQUIRE_REASON":  {fmt.Sprint(serveCfg.RequireReason)},
		"TAPBOT_TAP_MAX_PER_HOUR":    {fmt.Sprint(serveCfg.MaxTAPsPerHour)},
		"TAPBOT_TAP_VERIFY":          {strings.Join(verify, ",")},
		"TAPBOT_VERIFY_AFTER":        {shortDuration(serveCfg.VerifyAfter)},
		"TAPBOT_VERIFY_TIMEOUT":      {shortDuration(serveCfg.VerifyTimeout)},
		"TAPBOT_DATABASE_AUTH":       {serveCfg.DatabaseAuth},
		"TAPBOT_LOG_LEVEL":           {serveCfg.LogLevel},
		"TAPBOT_LOG_FORMAT":          {serveCfg.LogFormat, devCfg.LogFormat},
		"TAPBOT_MAX_BODY_BYTES":      {fmt.Sprint(serveCfg.MaxBodyBytes), fmt.Sprint(bot.DefaultMaxBodyBytes)},
		"TAPBOT_SHUTDOWN_GRACE":      {shortDuration(serveCfg.ShutdownGrace)},
	}
	for name, want := range applied {
		cell, ok := defaults[name]
		if !ok {
			continue // TestReadmeDocumentsEverySetting reports the missing row
		}
		for _, v := range want {
			if !strings.Contains(cell, "`"+v+"`") {
				t.Errorf("README default of %s is %q, want it to show `%s`, the default the code applies", name, cell, v)
			}
		}
	}
	// What `tapbot help` says the default is, for the settings whose default a flow
	// applies (checklist, onboarding) rather than loadConfig.
	for _, s := range settings {
		cell, ok := defaults[s.names[0]]
		if !ok {
			continue
		}
		for _, v := range helpDefaults(s.help) {
			if !strings.Contains(cell, "`"+v+"`") {
				t.Errorf("README default of %s is %q, want it to show `%s`, the default `tapbot help` states (%q)", s.names[0], cell, v, s.help)
			}
		}
	}
}

var (
	// "(default 48h; off …)", "(default 336h, 14 days)": a default given as a value.
	valueDefault = regexp.MustCompile(`\(default ([^\s;)]+)( [a-z])?`)
	// "SingleTenant (default)", "json (default for serve)".
	wordDefault = regexp.MustCompile(`(\S+) \(default(?:\)| for )`)
	letters     = regexp.MustCompile(`^[A-Za-z]+$`)
)

// helpDefaults returns the defaults a setting's help text states as values. A plain
// word followed by more words ("default public cloud") is prose, not a value.
func helpDefaults(help string) []string {
	var out []string
	for _, m := range valueDefault.FindAllStringSubmatch(help, -1) {
		v := strings.TrimRight(m[1], ",")
		if m[2] != "" && letters.MatchString(v) {
			continue
		}
		out = append(out, v)
	}
	for _, m := range wordDefault.FindAllStringSubmatch(help, -1) {
		out = append(out, m[1])
	}
	return out
}

// shortDuration writes d as an operator would: 336h, 15m, 20s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

var envName = regexp.MustCompile(`\b(TAPBOT_[A-Z0-9_]*[A-Z0-9]|AZURE_[A-Z0-9_]*[A-Z0-9]|MicrosoftApp[A-Za-z]+|BotOpenIdMetadata|E2E_[A-Z0-9_]*[A-Z0-9]|PLAYGROUND_PORT)\b`)

// The docs name no environment variable that nothing reads: each is one of
// tapbot's settings or aliases, or is read by a test, a script or the e2e driver.
func TestDocsNameOnlyVariablesSomethingReads(t *testing.T) {
	known := map[string]bool{}
	for _, s := range settings {
		for _, n := range s.names {
			known[n] = true
		}
	}
	sources := readSources(t)
	for _, page := range docs {
		for _, name := range envName.FindAllString(readRepoFile(t, page), -1) {
			if known[name] {
				continue
			}
			known[name] = true // one look, one report
			if !readsVariable(sources, name) {
				t.Errorf("%s names the environment variable %s, want only variables tapbot, its tests or its scripts read", page, name)
			}
		}
	}
}

// readSources returns the repository's code and scripts by path (Go, the e2e
// driver, shell scripts, the Makefile and the Dockerfile), without node_modules.
func readSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != repoRoot && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch ext := filepath.Ext(path); {
		case ext == ".go", ext == ".mjs", ext == ".sh", d.Name() == "Makefile", d.Name() == "Dockerfile":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repoRoot, path)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readsVariable reports whether some source reads the variable: a Go string
// literal, process.env in JavaScript, $NAME in a script or the Makefile.
func readsVariable(sources map[string]string, name string) bool {
	for path, src := range sources {
		var reads []string
		switch filepath.Ext(path) {
		case ".go":
			reads = []string{`"` + name + `"`}
		case ".mjs":
			reads = []string{"process.env." + name, "process.env['" + name + "']"}
		default:
			reads = []string{"$" + name, "${" + name, "$(" + name}
		}
		for _, r := range reads {
			if strings.Contains(src, r) {
				return true
			}
		}
	}
	return false
}

var (
	tapbotCommand = regexp.MustCompile(`(?:^|[\s(])tapbot ([a-z][a-z-]*)((?: [^|;]*)?)`)
	flagName      = regexp.MustCompile(`(?:^|[\s\[])(--?[a-z][a-z0-9-]*)`)
	makeTarget    = regexp.MustCompile(`(?:^|\s)make ([a-z][a-z-]*)`)
	npmScript     = regexp.MustCompile(`(?:^|\s)npm (?:run ([a-z][a-z-]*)|(test))\b`)
	persona       = regexp.MustCompile(`npm run playground -- --as ([a-z|]+)`)
)

// Every command the docs show exists: `tapbot …` subcommands with their flags,
// `make` targets, `npm run …` scripts and the playground's personas.
func TestDocumentedCommandsExist(t *testing.T) {
	makefile := readRepoFile(t, "Makefile")
	var pkg struct{ Scripts map[string]string }
	if err := json.Unmarshal([]byte(readRepoFile(t, "e2e/package.json")), &pkg); err != nil {
		t.Fatal(err)
	}
	personas := readRepoFile(t, "e2e/personas.mjs")
	flagHelp := map[string]string{} // subcommand → what -h prints

	for _, page := range docs {
		for _, code := range spans(readRepoFile(t, page)) {
			for _, m := range tapbotCommand.FindAllStringSubmatch(code, -1) {
				sub, rest := m[1], m[2]
				if sub == "store" {
					verb, after, _ := strings.Cut(strings.TrimSpace(rest), " ")
					sub, rest = "store "+verb, after
				}
				if !regexp.MustCompile(`\n  tapbot ` + regexp.QuoteMeta(sub) + `\s`).MatchString(usage) {
					t.Errorf("%s shows `tapbot %s`, want a command `tapbot help` lists", page, sub)
					continue
				}
				for _, f := range flagName.FindAllStringSubmatch(rest, -1) {
					help, ok := flagHelp[sub]
					if !ok {
						var stdout, stderr bytes.Buffer
						run(append(strings.Fields(sub), "-h"), envOf(), &stdout, &stderr)
						help = stderr.String()
						flagHelp[sub] = help
					}
					name := strings.TrimLeft(f[1], "-")
					if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(name) + `(\s|$)`).MatchString(help) {
						t.Errorf("%s shows `tapbot %s %s`, want a flag `tapbot %s -h` lists:\n%s", page, sub, f[1], sub, help)
					}
				}
			}
			for _, m := range makeTarget.FindAllStringSubmatch(code, -1) {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m[1]) + `:`).MatchString(makefile) {
					t.Errorf("%s shows `make %s`, want a target of that name in the Makefile", page, m[1])
				}
			}
			for _, m := range npmScript.FindAllStringSubmatch(code, -1) {
				if script := m[1] + m[2]; pkg.Scripts[script] == "" {
					t.Errorf("%s shows `%s`, want a script %q in e2e/package.json", page, strings.TrimSpace(m[0]), script)
				}
			}
			for _, m := range persona.FindAllStringSubmatch(code, -1) {
				for name := range strings.SplitSeq(m[1], "|") {
					if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(name) + `: \{`).MatchString(personas) {
						t.Errorf("%s shows `--as %s`, want a persona of that name in e2e/personas.mjs", page, name)
					}
				}
			}
		}
	}
}

// The README's Layout table names directories that exist, and every directory
// holding Go code has a row, or is named (`sqlite`, `postgres/pgtest`) in the row of
// a directory above it.
func TestReadmeLayoutMatchesTheTree(t *testing.T) {
	rows := map[string]string{} // path → its row
	for _, row := range tableRows(section(t, "README.md", readRepoFile(t, "README.md"), "Layout")) {
		if len(row) != 2 {
			t.Errorf("README layout row %q has %d cells, want 2 (path, what)", row, len(row))
			continue
		}
		for _, p := range cited(row[0]) {
			rows[p] = row[1]
			if fi, err := os.Stat(filepath.Join(repoRoot, p)); err != nil || !fi.IsDir() {
				t.Errorf("README layout names %s, want a directory of that name (%v)", p, err)
			}
		}
	}
	for _, dir := range goDirs(t) {
		if _, ok := rows[dir]; ok {
			continue
		}
		named := false
		for parent := filepath.Dir(dir); parent != "." && !named; parent = filepath.Dir(parent) {
			row, ok := rows[parent]
			named = ok && slices.Contains(cited(row), strings.TrimPrefix(dir, parent+"/"))
		}
		if !named {
			t.Errorf("README layout has no row for %s, want one (or its name in the row of a directory above it)", dir)
		}
	}
}

// goDirs returns the repository's directories that hold Go files, slash-separated
// and relative to the root, without testdata.
func goDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	for path := range readSources(t) {
		if strings.HasSuffix(path, ".go") && !strings.Contains(path, "/testdata/") {
			seen[filepath.ToSlash(filepath.Dir(path))] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

var (
	testName  = regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz)[A-Z]\w*\*?`)
	suiteCase = regexp.MustCompile(`\{"([A-Z]\w*)",`)
)

// Every test the docs cite exists (docs/security.md names a test for each rule):
// Test…, Benchmark… and Fuzz… functions, a trailing * matching a prefix, and in the
// tests column of docs/security.md's tables the cases of the store conformance
// suite (internal/store/storetest).
func TestDocsCiteTestsThatExist(t *testing.T) {
	sources := readSources(t)
	var funcs, cases []string
	funcDecl := regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz)\w*)\(`)
	for path, src := range sources {
		if strings.HasSuffix(path, "_test.go") {
			for _, m := range funcDecl.FindAllStringSubmatch(src, -1) {
				funcs = append(funcs, m[1])
			}
		}
		if strings.HasPrefix(path, "internal/store/storetest/") {
			for _, m := range suiteCase.FindAllStringSubmatch(src, -1) {
				cases = append(cases, m[1])
			}
		}
	}
	exists := func(names []string, cite string) bool {
		prefix, wildcard := strings.CutSuffix(cite, "*")
		return slices.ContainsFunc(names, func(n string) bool {
			return n == cite || wildcard && strings.HasPrefix(n, prefix)
		})
	}
	for _, page := range docs {
		for _, cite := range testName.FindAllString(readRepoFile(t, page), -1) {
			if !exists(funcs, cite) {
				t.Errorf("%s cites %s, want a func of that name in a _test.go file", page, cite)
			}
		}
	}
	for _, row := range tableRows(readRepoFile(t, "docs/security.md")) {
		for _, cite := range cited(row[len(row)-1]) {
			if cite[0] < 'A' || cite[0] > 'Z' || testName.MatchString(cite) {
				continue // a package or helper name, or a Test… checked above
			}
			if !exists(cases, cite) {
				t.Errorf("docs/security.md cites %s, want a case of that name in internal/store/storetest", cite)
			}
		}
	}
}

var (
	repoPath   = regexp.MustCompile(`^(?:bench|bot|cards|cmd|docs|e2e|graph|internal|manifest)/[\w./-]*$`)
	mdLink     = regexp.MustCompile(`\]\(([^)#\s]+)`)
	qualified  = regexp.MustCompile(`^([a-z][a-z0-9]*)\.([A-Z]\w*)(?:\.(\w+))?$`)
	typeMember = regexp.MustCompile(`^([A-Z]\w*)\.(\w+)$`)
)

// The docs name files, directories and Go identifiers that exist: a path such as
// `bot/tap/mint.go`, a relative link, and `pkg.Name`, `pkg.Type.Method` or
// `Type.Method` where pkg is one of tapbot's packages or Type one of its types.
func TestDocsNameCodeThatExists(t *testing.T) {
	decls := declarations(t)
	types, members := map[string]bool{}, map[string]bool{} // across packages
	for _, names := range decls {
		for n := range names {
			if typ, _, ok := strings.Cut(n, "."); ok {
				types[typ], members[n] = true, true
			}
		}
	}
	for _, page := range docs {
		md := readRepoFile(t, page)
		for _, m := range mdLink.FindAllStringSubmatch(md, -1) {
			if strings.Contains(m[1], "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, filepath.Dir(page), m[1])); err != nil {
				t.Errorf("%s links to %s, want a file there (%v)", page, m[1], err)
			}
		}
		for _, code := range spans(md) {
			code = strings.TrimSuffix(strings.TrimSpace(code), "()")
			if repoPath.MatchString(code) {
				if _, err := os.Stat(filepath.Join(repoRoot, code)); err != nil {
					t.Errorf("%s names %s, want a file or directory there (%v)", page, code, err)
				}
				continue
			}
			if m := qualified.FindStringSubmatch(code); m != nil && decls[m[1]] != nil {
				name := m[2]
				if m[3] != "" {
					name += "." + m[3]
				}
				if !decls[m[1]][name] {
					t.Errorf("%s names %s, want %s declared in package %s", page, code, name, m[1])
				}
				continue
			}
			if m := typeMember.FindStringSubmatch(code); m != nil && types[m[1]] {
				if !members[code] {
					t.Errorf("%s names %s, want a method or field %s of a type %s", page, code, m[2], m[1])
				}
			}
		}
	}
}

// declarations returns, per package name, what tapbot's non-test Go files declare:
// top-level names, and Type.Member for methods, struct fields and interface
// methods; an interface's methods also count as names of the package (the docs
// write store.BeginTAP for the Store method).
func declarations(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	for path, src := range readSources(t) {
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		names := out[f.Name.Name]
		if names == nil {
			names = map[string]bool{}
			out[f.Name.Name] = names
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					names[d.Name.Name] = true
					continue
				}
				recv := d.Recv.List[0].Type
				for {
					switch r := recv.(type) {
					case *ast.StarExpr:
						recv = r.X
						continue
					case *ast.IndexExpr:
						recv = r.X
						continue
					case *ast.IndexListExpr:
						recv = r.X
						continue
					}
					break
				}
				if id, ok := recv.(*ast.Ident); ok {
					names[id.Name+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names[n.Name] = true
						}
					case *ast.TypeSpec:
						names[s.Name.Name] = true
						var fields *ast.FieldList
						switch typ := s.Type.(type) {
						case *ast.StructType:
							fields = typ.Fields
						case *ast.InterfaceType:
							fields = typ.Methods
						}
						if fields == nil {
							continue
						}
						_, iface := s.Type.(*ast.InterfaceType)
						for _, fl := range fields.List {
							for _, n := range fl.Names {
								names[s.Name.Name+"."+n.Name] = true
								if iface {
									names[n.Name] = true
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}
