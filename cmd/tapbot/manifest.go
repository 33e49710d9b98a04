package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tapbot/tapbot/manifest"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// manifestCmd writes the Teams app package: `tapbot manifest -o tapbot-teams-app.zip`.
// The app id comes from -app-id or TAPBOT_APP_ID (MicrosoftAppId), like serve's.
func manifestCmd(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: tapbot manifest [flags]\n\n"+
			"Writes the Teams app package (manifest.json and icons, schema v"+manifest.SchemaVersion+") to upload\n"+
			"to your org's app catalog. The bot id is -app-id or TAPBOT_APP_ID (MicrosoftAppId).\n\n")
		fs.PrintDefaults()
	}
	out := fs.String("o", "tapbot-teams-app.zip", "output file")
	appID := fs.String("app-id", "", "the Azure Bot's Microsoft App ID (default $TAPBOT_APP_ID or $MicrosoftAppId)")
	version := fs.String("version", manifest.DefaultVersion, "app package version, MAJOR.MINOR.PATCH; raise it for every upload")
	name := fs.String("name", manifest.DefaultName, "app name shown in Teams (at most 30 characters)")
	devName := fs.String("developer-name", manifest.DefaultDeveloper, "publisher name shown in Teams (your organisation)")
	website := fs.String("website", manifest.DefaultWebsiteURL, "developer website (https)")
	privacy := fs.String("privacy", manifest.DefaultPrivacyURL, "privacy statement URL (https)")
	terms := fs.String("terms", manifest.DefaultTermsURL, "terms of use URL (https)")
	accent := fs.String("accent-color", manifest.DefaultAccentColor, "accent colour, #RRGGBB")
	var domains stringList
	fs.Var(&domains, "domain", "a valid domain (host name, *.contoso.com allowed); repeatable")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tapbot manifest: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *appID == "" {
		*appID = lookup(env, "TAPBOT_APP_ID")
	}
	if *out == "" {
		fmt.Fprintln(stderr, "tapbot manifest: -o: output file required")
		return 2
	}
	pkg, err := manifest.Build(manifest.Config{
		AppID: *appID, Version: *version, Name: *name, AccentColor: *accent, ValidDomains: domains,
		Developer: manifest.Developer{Name: *devName, WebsiteURL: *website, PrivacyURL: *privacy, TermsURL: *terms},
	})
	if err != nil {
		fmt.Fprintf(stderr, "tapbot manifest: invalid settings:\n  - %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  - "))
		return 2
	}
	if err := writeFileAtomic(*out, pkg); err != nil {
		fmt.Fprintf(stderr, "tapbot manifest: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (Teams app package, manifest v%s); upload it in Teams admin center > Teams apps > Manage apps > Upload new app\n",
		*out, manifest.SchemaVersion)
	return 0
}

// writeFileAtomic writes data to a temporary file next to path and renames it into
// place, so a failed write never leaves a truncated package behind.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tapbot-manifest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
