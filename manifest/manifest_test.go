package manifest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"image/png"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

const testAppID = "8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"

// unzip returns the package's entries by name, in zip order.
func unzip(t *testing.T, pkg []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		files[f.Name] = data
	}
	return names, files
}

func build(t *testing.T, c Config) map[string]any {
	t.Helper()
	pkg, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, pkg)
	var m map[string]any
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatalf("manifest.json: %v\n%s", err, files["manifest.json"])
	}
	return m
}

func TestZipContents(t *testing.T) {
	pkg, err := Build(Config{AppID: testAppID})
	if err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, pkg)
	if want := []string{"manifest.json", "color.png", "outline.png"}; !slices.Equal(names, want) {
		t.Fatalf("entries %v, want %v", names, want)
	}
	if !bytes.Equal(files["color.png"], colorIcon) || !bytes.Equal(files["outline.png"], outlineIcon) {
		t.Fatal("icons in the zip differ from the embedded ones, want them byte for byte")
	}
	// Teams reads the icons by the names manifest.json gives.
	var m struct {
		Icons struct{ Color, Outline string }
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if files[m.Icons.Color] == nil || files[m.Icons.Outline] == nil {
		t.Fatalf("manifest icons %+v, want both in the zip (entries %v)", m.Icons, names)
	}
}

func TestZipIsDeterministic(t *testing.T) {
	c := Config{AppID: testAppID, ValidDomains: []string{"bot.contoso.com"}}
	a, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same config, different zip bytes; want identical")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(zipTime) {
			t.Errorf("%s modified %v, want the fixed %v", f.Name, f.Modified, zipTime)
		}
	}
	other, err := Build(Config{AppID: testAppID, Version: "1.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, other) {
		t.Fatal("different config, same zip bytes; want them to differ")
	}
}

func TestManifestDefaults(t *testing.T) {
	m := build(t, Config{AppID: strings.ToUpper(testAppID)})
	want := map[string]any{
		"$schema":         "https://developer.microsoft.com/json-schemas/teams/v1.19/MicrosoftTeams.schema.json",
		"manifestVersion": "1.19",
		"version":         "1.0.0",
		"id":              testAppID,
		"accentColor":     DefaultAccentColor,
		"name":            map[string]any{"short": "tapbot", "full": "tapbot"},
		"icons":           map[string]any{"color": "color.png", "outline": "outline.png"},
		"developer": map[string]any{"name": "tapbot", "websiteUrl": DefaultWebsiteURL,
			"privacyUrl": DefaultPrivacyURL, "termsOfUseUrl": DefaultTermsURL},
		"validDomains": []any{},
	}
	for k, v := range want {
		got, _ := json.Marshal(m[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s", k, got, exp)
		}
	}
	// Self-install for a new hire (TeamsAppInstallation.ReadWriteSelfForUser.All)
	// needs webApplicationInfo.id = the bot's app id.
	wai, _ := m["webApplicationInfo"].(map[string]any)
	if wai["id"] != m["id"] || wai["id"] != m["bots"].([]any)[0].(map[string]any)["botId"] ||
		wai["resource"] != "api://botid-"+wai["id"].(string) {
		t.Errorf("webApplicationInfo = %v, want id = the bot id and resource api://botid-{id}", m["webApplicationInfo"])
	}
	desc := m["description"].(map[string]any)
	if s := desc["short"].(string); s == "" || utf8.RuneCountInString(s) > 80 {
		t.Errorf("description.short = %q, want 1..80 characters", s)
	}
	if f := desc["full"].(string); f == "" || utf8.RuneCountInString(f) > 4000 {
		t.Errorf("description.full = %q, want 1..4000 characters", f)
	}
}

func TestManifestCustom(t *testing.T) {
	m := build(t, Config{
		AppID: testAppID, Version: "2.3.4", Name: "Contoso Passes", AccentColor: "#112233",
		Developer: Developer{Name: "Contoso IT", WebsiteURL: "https://it.contoso.com",
			PrivacyURL: "https://it.contoso.com/privacy", TermsURL: "https://it.contoso.com/terms"},
		ValidDomains: []string{"tapbot.contoso.com", " *.Contoso.net "},
	})
	got, _ := json.Marshal([]any{m["version"], m["name"], m["accentColor"], m["developer"], m["validDomains"]})
	want := `["2.3.4",{"full":"Contoso Passes","short":"Contoso Passes"},"#112233",` +
		`{"name":"Contoso IT","privacyUrl":"https://it.contoso.com/privacy","termsOfUseUrl":"https://it.contoso.com/terms","websiteUrl":"https://it.contoso.com"},` +
		`["tapbot.contoso.com","*.contoso.net"]]`
	if string(got) != want {
		t.Fatalf("version, name, accentColor, developer, validDomains =\n %s\nwant\n %s", got, want)
	}
}

func TestBotSection(t *testing.T) {
	pkg, err := Build(Config{AppID: testAppID})
	if err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, pkg)
	var m struct {
		Bots []struct {
			BotID              string  `json:"botId"`
			Scopes             []Scope `json:"scopes"`
			SupportsFiles      *bool   `json:"supportsFiles"`
			IsNotificationOnly *bool   `json:"isNotificationOnly"`
			CommandLists       []struct {
				Scopes   []Scope `json:"scopes"`
				Commands []struct{ Title, Description string }
			} `json:"commandLists"`
		} `json:"bots"`
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Bots) != 1 {
		t.Fatalf("%d bots, want 1", len(m.Bots))
	}
	b := m.Bots[0]
	if b.BotID != testAppID || !slices.Equal(b.Scopes, []Scope{"personal", "team", "groupChat"}) ||
		b.SupportsFiles == nil || *b.SupportsFiles || b.IsNotificationOnly == nil || *b.IsNotificationOnly {
		t.Fatalf("bot = %+v, want botId %s, scopes personal, team, groupChat, supportsFiles and isNotificationOnly set to false", b, testAppID)
	}
	wantMenu := map[Scope][]string{
		"personal":  {"help", "tap", "revoke", "status", "audit", "checklist", "doctor", "onboard", "requests", "joiners"},
		"team":      {"help", "tap", "revoke", "status", "audit", "checklist"},
		"groupChat": {"help", "tap", "revoke", "status", "audit", "checklist"},
	}
	if len(b.CommandLists) != len(wantMenu) {
		t.Fatalf("%d command lists, want one per scope", len(b.CommandLists))
	}
	for _, l := range b.CommandLists {
		if len(l.Scopes) != 1 {
			t.Fatalf("command list for scopes %v, want one scope each", l.Scopes)
		}
		var titles []string
		for _, c := range l.Commands {
			titles = append(titles, c.Title)
			if c.Description == "" {
				t.Errorf("%s: %s has an empty description, want one", l.Scopes[0], c.Title)
			}
		}
		if !slices.Equal(titles, wantMenu[l.Scopes[0]]) {
			t.Errorf("%s: commands %v, want %v", l.Scopes[0], titles, wantMenu[l.Scopes[0]])
		}
		delete(wantMenu, l.Scopes[0])
	}
	if len(wantMenu) != 0 {
		t.Errorf("no command list for %v, want one per scope", wantMenu)
	}
}

// TestCommandTable checks the menu against Teams' limits.
func TestCommandTable(t *testing.T) {
	perScope := map[Scope]int{}
	for _, c := range Commands() {
		if c.Name == "" || strings.HasPrefix(c.Name, "/") || utf8.RuneCountInString(c.Name) > maxTitle {
			t.Errorf("title %q: want a bare name of at most %d characters", c.Name, maxTitle)
		}
		if c.Description == "" || utf8.RuneCountInString(c.Description) > maxDescription {
			t.Errorf("%s: description of %d characters, want 1..%d", c.Name, utf8.RuneCountInString(c.Description), maxDescription)
		}
		if !strings.HasPrefix(c.Usage, "/"+c.Name) {
			t.Errorf("%s: usage %q, want it to start %q", c.Name, c.Usage, "/"+c.Name)
		}
		for _, s := range c.Scopes {
			if !slices.Contains(allScopes, s) {
				t.Errorf("%s: scope %q, want one of %q", c.Name, s, allScopes)
			}
			perScope[s]++
		}
	}
	for s, n := range perScope {
		if n > maxCommands {
			t.Errorf("%s: %d commands, want at most %d (all Teams shows)", s, n, maxCommands)
		}
	}
	// Commands hands out copies.
	Commands()[0].Scopes[0] = "x"
	if commands[0].Scopes[0] == "x" {
		t.Fatal("Commands() exposes the table, want a copy")
	}
}

// TestCommandsMatchBot reads the bot's command registrations (bot.Command literals in
// package bot and every package below it) and checks the manifest's menu says the same,
// names, usage, descriptions and scopes, so the menu cannot drift from what the bot
// answers.
func TestCommandsMatchBot(t *testing.T) {
	type reg struct {
		usage, description string
		scopes             []Scope
	}
	got := map[string]reg{}
	err := filepath.WalkDir("../bot", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			return nil
		}
		for name, r := range botCommands(t, path) {
			if _, dup := got[name]; dup {
				t.Errorf("/%s registered twice, want once", name)
			}
			got[name] = reg{r[0].(string), r[1].(string), r[2].([]Scope)}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("found no bot.Command literals with a string Name in ../bot; update this test to how commands are registered now")
	}
	for _, c := range commands {
		r, ok := got[c.Name]
		if !ok {
			t.Errorf("the manifest lists %s, want the bot to register it too", c.Name)
			continue
		}
		if r.usage != c.Usage || r.description != c.Description || !slices.Equal(r.scopes, c.Scopes) {
			t.Errorf("/%s: manifest has %q %q %v, want the bot's %q %q %v", c.Name, c.Usage, c.Description, c.Scopes, r.usage, r.description, r.scopes)
		}
		delete(got, c.Name)
	}
	for name := range got {
		t.Errorf("the bot registers /%s, want it in the manifest's command table too: add it to commands in manifest.go", name)
	}
}

// storeScopes maps the bot's store.Scope constants to the manifest's scopes.
var storeScopes = map[string]Scope{"ScopePersonal": ScopePersonal, "ScopeGroupChat": ScopeGroupChat, "ScopeChannel": ScopeTeam}

// botCommands returns name → {usage, description, scopes} for every Command literal in
// the package in dir. Scopes is a []store.Scope literal or a package-level variable
// holding one.
func botCommands(t *testing.T, dir string) map[string][3]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	scopeList := func(e ast.Expr) ([]Scope, bool) {
		lit, ok := e.(*ast.CompositeLit)
		if !ok {
			return nil, false
		}
		var out []Scope
		for _, el := range lit.Elts {
			sel, ok := el.(*ast.SelectorExpr)
			if !ok || storeScopes[sel.Sel.Name] == "" {
				return nil, false
			}
			out = append(out, storeScopes[sel.Sel.Name])
		}
		slices.SortFunc(out, func(a, b Scope) int { return slices.Index(allScopes, a) - slices.Index(allScopes, b) })
		return out, true
	}
	vars := map[string][]Scope{}
	for _, f := range parsed {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, v := range vs.Values {
					if sc, ok := scopeList(v); ok {
						vars[vs.Names[i].Name] = sc
					}
				}
			}
		}
	}
	out := map[string][3]any{}
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isCommandType(lit.Type) {
				return true
			}
			fields := map[string]string{}
			var scopes []Scope
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				if key == nil {
					continue
				}
				if key.Name == "Scopes" {
					var ok bool
					if id, isIdent := kv.Value.(*ast.Ident); isIdent {
						scopes, ok = vars[id.Name]
					} else {
						scopes, ok = scopeList(kv.Value)
					}
					if !ok {
						t.Errorf("%s: cannot read the Scopes of a command, want an identifier or a []Scope literal; update this test", fset.Position(kv.Pos()))
					}
				}
				if val, ok := kv.Value.(*ast.BasicLit); ok && val.Kind == token.STRING {
					s, err := strconv.Unquote(val.Value)
					if err != nil {
						t.Fatal(err)
					}
					fields[key.Name] = s
				}
			}
			if fields["Name"] != "" {
				out[fields["Name"]] = [3]any{fields["Usage"], fields["Description"], scopes}
			}
			return true
		})
	}
	return out
}

func isCommandType(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name == "Command"
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		return ok && pkg.Name == "bot" && x.Sel.Name == "Command"
	}
	return false
}

func TestValidation(t *testing.T) {
	good := Developer{Name: "Contoso IT", WebsiteURL: "https://contoso.com", PrivacyURL: "https://contoso.com/p", TermsURL: "https://contoso.com/t"}
	tests := []struct {
		name string
		c    Config
		want []string // every one must appear in the error
	}{
		{"missing app id", Config{}, []string{"app id: required"}},
		{"app id not a GUID", Config{AppID: "28:8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"}, []string{"not a GUID"}},
		{"version not semver", Config{AppID: testAppID, Version: "1.0"}, []string{`version "1.0"`}},
		{"version with prerelease", Config{AppID: testAppID, Version: "1.0.0-beta"}, []string{"MAJOR.MINOR.PATCH"}},
		{"version leading zero", Config{AppID: testAppID, Version: "01.0.0"}, []string{"version"}},
		{"name too long", Config{AppID: testAppID, Name: strings.Repeat("n", 31)}, []string{"31 characters, at most 30"}},
		{"name 30 runes ok", Config{AppID: testAppID, Name: strings.Repeat("ü", 30)}, nil},
		{"name with newline", Config{AppID: testAppID, Name: "tap\nbot"}, []string{"control characters"}},
		{"developer name too long", Config{AppID: testAppID, Developer: Developer{Name: strings.Repeat("d", 33)}}, []string{"developer name", "at most 32"}},
		{"http website", Config{AppID: testAppID, Developer: Developer{WebsiteURL: "http://contoso.com"}}, []string{"website URL", "https"}},
		{"relative privacy", Config{AppID: testAppID, Developer: Developer{PrivacyURL: "/privacy"}}, []string{"privacy URL"}},
		{"terms with credentials", Config{AppID: testAppID, Developer: Developer{TermsURL: "https://u:p@contoso.com/t"}}, []string{"terms of use URL"}},
		{"url too long", Config{AppID: testAppID, Developer: Developer{WebsiteURL: "https://contoso.com/" + strings.Repeat("a", 2048)}}, []string{"longer than 2048"}},
		{"accent color", Config{AppID: testAppID, AccentColor: "blue"}, []string{`accent color "blue"`}},
		{"accent color short form", Config{AppID: testAppID, AccentColor: "#fff"}, []string{"#RRGGBB"}},
		{"domain with scheme", Config{AppID: testAppID, ValidDomains: []string{"https://contoso.com"}}, []string{`valid domain "https://contoso.com"`}},
		{"domain with path", Config{AppID: testAppID, ValidDomains: []string{"contoso.com/x"}}, []string{"valid domain"}},
		{"wildcard tld", Config{AppID: testAppID, ValidDomains: []string{"*.com"}}, []string{`"*.com"`}},
		{"bare wildcard", Config{AppID: testAppID, ValidDomains: []string{"*"}}, []string{`"*"`}},
		{"duplicate domain", Config{AppID: testAppID, ValidDomains: []string{"a.contoso.com", "A.contoso.com"}}, []string{"listed twice"}},
		{"too many domains", Config{AppID: testAppID, ValidDomains: manyDomains(17)}, []string{"17, at most 16"}},
		{"16 domains ok", Config{AppID: testAppID, ValidDomains: manyDomains(16), Developer: good}, nil},
		{"everything at once", Config{AppID: "nope", Version: "v1", Name: strings.Repeat("x", 40), AccentColor: "red",
			Developer:    Developer{Name: strings.Repeat("d", 40), WebsiteURL: "ftp://x", PrivacyURL: "http://x", TermsURL: "x"},
			ValidDomains: []string{"bad domain"}},
			[]string{"app id", "version", "name", "developer name", "website URL", "privacy URL", "terms of use URL", "accent color", "valid domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkg, err := Build(tt.c)
			if len(tt.want) == 0 {
				if err != nil || len(pkg) == 0 {
					t.Fatalf("Build = %d bytes, %v; want a package and no error", len(pkg), err)
				}
				return
			}
			if err == nil {
				t.Fatal("Build accepted an invalid config, want an error")
			}
			if pkg != nil {
				t.Error("Build returned a package with an error, want nil")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Build error = %q, want it to contain %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tt.want) && tt.name == "everything at once" {
				t.Errorf("%d problems reported, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
}

func manyDomains(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "host" + strconv.Itoa(i) + ".contoso.com"
	}
	return out
}

func TestIcons(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
		size int
	}{{ColorIcon, colorIcon, 192}, {OutlineIcon, outlineIcon, 32}} {
		img, err := png.Decode(bytes.NewReader(tt.data))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if b := img.Bounds(); b != image.Rect(0, 0, tt.size, tt.size) {
			t.Errorf("%s is %v, want %d×%d", tt.name, b, tt.size, tt.size)
		}
	}

	// Teams requires the outline icon to be white on transparent: every pixel fully
	// transparent or opaque white.
	img, _ := png.Decode(bytes.NewReader(outlineIcon))
	white := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			switch {
			case a == 0:
			case a == 0xffff && r == 0xffff && g == 0xffff && bl == 0xffff:
				white++
			default:
				t.Fatalf("outline.png pixel (%d,%d) = %v, want opaque white or fully transparent", x, y, img.At(x, y))
			}
		}
	}
	if white == 0 || white == b.Dx()*b.Dy() {
		t.Errorf("outline.png has %d white pixels: want a glyph, not an empty or full square", white)
	}

	// The colour icon is opaque and not a single flat colour.
	img, _ = png.Decode(bytes.NewReader(colorIcon))
	colors := map[[4]uint32]bool{}
	b = img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			if a != 0xffff {
				t.Fatalf("color.png pixel (%d,%d) = %v, want opaque", x, y, img.At(x, y))
			}
			colors[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colors) < 2 {
		t.Error("color.png is a single colour, want at least two")
	}
}

// The description tells an admin installing the app everything it does, not only the
// helpdesk's half, and names every command of the menu; the schema's limits hold.
func TestDescriptionCoversEveryFlow(t *testing.T) {
	for _, want := range []string{"Temporary Access Pass", "onboarding", "checklist"} {
		if !strings.Contains(strings.ToLower(shortDescription), strings.ToLower(want)) {
			t.Errorf("short description = %q, want it to contain %q (any case)", shortDescription, want)
		}
	}
	for _, want := range []string{"approvers", "first day", "stuck"} {
		if !strings.Contains(fullDescription, want) {
			t.Errorf("full description = %q, want it to contain %q", fullDescription, want)
		}
	}
	for _, c := range Commands() {
		if !strings.Contains(fullDescription, "/"+c.Name) {
			t.Errorf("full description = %q, want it to name /%s", fullDescription, c.Name)
		}
	}
	if len(shortDescription) > 80 || len(fullDescription) > 4000 {
		t.Errorf("descriptions are %d and %d bytes, want at most 80 and 4000", len(shortDescription), len(fullDescription))
	}
}
