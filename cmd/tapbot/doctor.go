package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/tapbot/tapbot/graph/msgraph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/doctor"
	"github.com/tapbot/tapbot/internal/requestid"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// doctorTimeout bounds the check, and separately the changes: a dozen Graph calls,
// each with the client's own retries.
const doctorTimeout = 2 * time.Minute

// doctorCmd checks the tenant's set-up for tapbot and, with --fix, makes the changes
// tapbot knows how to make: `tapbot doctor [--dev] [--fix [--yes] | --probe user]`.
func doctorCmd(args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runDoctor(args, env, stdin, stdout, stderr, simtenant.Contoso)
}

// runDoctor is doctorCmd with the simulated tenant --dev runs against (tests pass one
// they set up and look at afterwards).
func runDoctor(args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer, simulated func() *simtenant.Tenant) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fix := fs.Bool("fix", false, "show the changes tapbot can make to fix what failed, and make them after confirmation")
	yes := fs.Bool("yes", false, "with --fix: make the changes without asking")
	dev := fs.Bool("dev", false, "check the simulated Contoso tenant (as `tapbot dev` uses) instead of yours")
	probe := fs.String("probe", "", "make every read request tapbot makes for this user (UPN or object id) once, and report each (no writes; audited)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tapbot doctor takes no arguments besides its flags, got %q\n", fs.Args())
		return 2
	}
	if *yes && !*fix {
		fmt.Fprintln(stderr, "tapbot doctor: --yes only goes with --fix")
		return 2
	}
	if *probe != "" && *fix {
		fmt.Fprintln(stderr, "tapbot doctor: --probe only reads; it does not go with --fix")
		return 2
	}
	cfg, err := loadConfig(*dev, env)
	if err != nil {
		fmt.Fprintf(stderr, "tapbot doctor: %v\n", err)
		return 2
	}
	check := tenantCheckConfig(cfg)

	log := zap.NewNop()
	if cfg.LogLevel == "debug" {
		if log, err = newLogger(cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "tapbot doctor: %v\n", err)
			return 2
		}
	}
	var client *msgraph.Client
	where := "tenant " + cfg.TenantID
	if *dev {
		tenant := simulated()
		fake := simtenant.NewServer(tenant)
		defer fake.Close()
		client, err = msgraph.New(msgraph.Config{Credential: devGraphCredential{roles: tenant.AppRoles()}, BaseURL: fake.URL() + "/v1.0", HTTPClient: fake.Client()}, log)
		where = "the simulated Contoso tenant"
	} else {
		cred, cerr := newCredential(cfg, cfg.TenantID)
		if cerr != nil {
			fmt.Fprintf(stderr, "tapbot doctor: %v\n", cerr)
			return 2
		}
		client, err = msgraph.New(msgraph.Config{Credential: cred, BaseURL: cfg.GraphURL}, log)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tapbot doctor: %v\n", err)
		return 2
	}

	if *probe != "" {
		return runProbe(client, cfg, check, *probe, where, env, stdout, stderr, log)
	}

	ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
	report := doctor.Check(ctx, client, check)
	cancel()
	fmt.Fprintf(stdout, "tapbot doctor: checking %s for app %s\n\n", where, cfg.AppID)
	writeReport(stdout, report)
	if !*fix {
		if len(doctor.Plan(report)) > 0 {
			fmt.Fprintln(stdout, "\n`tapbot doctor --fix` can make the changes marked with --fix above.")
		}
		return exitCode(report)
	}

	plan := doctor.Plan(report)
	if len(plan) == 0 {
		if report.Count(doctor.OK) == len(report.Items) {
			fmt.Fprintln(stdout, "\nNothing to fix.")
		} else {
			fmt.Fprintln(stdout, "\nNothing here is for tapbot to change: follow the fix lines above.")
		}
		return exitCode(report)
	}
	fmt.Fprintf(stdout, "\ntapbot can make %s in %s:\n", plural(len(plan), "change", "changes"), where)
	for i, c := range plan {
		fmt.Fprintf(stdout, "  %d. %s\n", i+1, terminalSafe(c.Description))
	}
	fmt.Fprintf(stdout, "This needs the %s permission.\n", doctor.FixPermission)
	if !*yes && !confirmed(stdin, stdout) {
		fmt.Fprintln(stdout, "Nothing was changed (dry run). Type yes at the prompt, or add --yes, to make the changes.")
		return exitCode(report)
	}

	// Every change is audited: no store, no change.
	ctx, cancel = context.WithTimeout(context.Background(), doctorTimeout)
	defer cancel()
	st, _, err := openStore(ctx, cfg, besideServerUse, log.Named("store"))
	if err != nil {
		fmt.Fprintf(stderr, "tapbot doctor: the audit log cannot be opened, so nothing was changed: %v\n", err)
		return 1
	}
	defer st.Close()
	if !applyPlan(ctx, client, st, plan, env, stdout, stderr) {
		return 1
	}

	after := doctor.Check(ctx, client, check)
	fmt.Fprintln(stdout, "\nAfter the changes:")
	writeReport(stdout, after)
	return exitCode(after)
}

// runProbe is `tapbot doctor --probe user`: every read request tapbot makes for the
// user, once, each reported with what fixes it. It reads the user's sign-in methods
// and devices, so it is audited like --fix: no audit log, no probe.
func runProbe(client *msgraph.Client, cfg Config, check doctor.Config, user, where string, env func(string) string, stdout, stderr io.Writer, log *zap.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
	defer cancel()
	st, _, err := openStore(ctx, cfg, besideServerUse, log.Named("store"))
	if err != nil {
		fmt.Fprintf(stderr, "tapbot doctor: the audit log cannot be opened, so nothing was probed: %v\n", err)
		return 1
	}
	defer st.Close()
	results, err := client.Probe(ctx, user, probeConfig(cfg))
	if err != nil {
		fmt.Fprintf(stderr, "tapbot doctor: --probe %s: %v\n", terminalSafe(user), err)
		return 2
	}
	report := doctor.ExplainProbe(results, check)
	fmt.Fprintf(stdout, "tapbot doctor: probing %s in %s for app %s: every read tapbot makes, once (nothing is changed)\n\n", terminalSafe(user), where, cfg.AppID)
	writeReport(stdout, report)
	entry := store.AuditEntry{Time: time.Now(), RequestID: requestid.New(), RequesterUPN: "cli:" + orDefault(strings.TrimSpace(env("USER")), "unknown"),
		TargetUPN: user, Action: store.ActionDoctorProbe, Outcome: store.OutcomeAllowed, Reason: report.Summary()}
	if report.Failed() {
		entry.Outcome = store.OutcomeFailed
	}
	if _, err := st.AppendAudit(ctx, entry); err != nil {
		fmt.Fprintf(stderr, "tapbot doctor: writing the audit log failed after the probe: %v\n", err)
		return 1
	}
	return exitCode(report)
}

// probeConfig is what `doctor --probe` needs of cfg: the inputs of tapbot's reads
// and which features are on.
func probeConfig(cfg Config) msgraph.ProbeConfig {
	onboarding := len(cfg.ApproverGroups) > 0 // as doctor.Config.Features decides
	// The groups doctor reads (each of its group settings), and the names of the
	// groups onboarding's form offers.
	named := union(cfg.HelpdeskGroups, cfg.Onboarding, cfg.ScopeGroups, cfg.Protected, cfg.AuditorGroups, cfg.AdminGroups, cfg.ApproverGroups)
	if onboarding {
		named = union(named, cfg.OnboardGroupsAllowed)
	}
	return msgraph.ProbeConfig{
		Groups:       union(cfg.Protected, cfg.ScopeGroups, cfg.Onboarding),
		NamedGroups:  named,
		CatalogAppID: cfg.TeamsAppID,
		ManagerPath:  slices.Contains(cfg.Verify, store.PathManager),
		Onboarding:   onboarding,
		Joiners:      len(cfg.JoinerGroups) > 0,
	}
}

// union joins id lists without repeats (case-insensitive).
func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, id := range l {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, id) }) {
				out = append(out, id)
			}
		}
	}
	return out
}

// auditLog is where applyPlan records each change.
type auditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
}

// applyPlan makes the changes and audits each one. It reports whether every change
// was made (or was already in place) and audited.
func applyPlan(ctx context.Context, w doctor.Writer, st auditLog, plan []doctor.Change, env func(string) string, stdout, stderr io.Writer) bool {
	requester := "cli:" + orDefault(strings.TrimSpace(env("USER")), "unknown")
	rid := requestid.New()
	ok := true
	for _, r := range doctor.Apply(ctx, w, plan) {
		entry := store.AuditEntry{Time: time.Now(), RequestID: rid, RequesterUPN: requester, Action: store.ActionDoctorFix,
			Reason: r.ID, Ticket: r.Description}
		switch {
		case r.Err != nil:
			ok = false
			fmt.Fprintf(stdout, "✗ %s\n    failed: %s\n", terminalSafe(r.Description), terminalSafe(r.Err.Error()))
			entry.Outcome = store.OutcomeFailed
			entry.Ticket += " Failed: " + r.Err.Error()
		case r.AlreadyDone:
			fmt.Fprintf(stdout, "· %s (already so; nothing sent)\n", terminalSafe(r.Description))
			continue
		default:
			fmt.Fprintf(stdout, "✓ %s\n", terminalSafe(r.Description))
			entry.Outcome = store.OutcomeAllowed
		}
		if _, err := st.AppendAudit(ctx, entry); err != nil {
			ok = false
			fmt.Fprintf(stderr, "tapbot doctor: writing the audit log failed after %q was %s: %v\n", r.ID, entry.Outcome, err)
		}
	}
	return ok
}

// confirmed asks on stdout and reads the answer from stdin: only "yes" is yes.
func confirmed(stdin io.Reader, stdout io.Writer) bool {
	fmt.Fprint(stdout, "Make these changes? Type yes to continue: ")
	if stdin == nil {
		fmt.Fprintln(stdout)
		return false
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	// A terminal echoes the typed newline, piped input does not: one more line break
	// keeps what follows off the prompt's line either way.
	fmt.Fprintln(stdout)
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(line), "yes")
}

// writeReport prints one aligned line per check and, under a problem, its fix.
func writeReport(w io.Writer, r doctor.Report) {
	width := 0
	for _, it := range r.Items {
		width = max(width, utf8.RuneCountInString(it.Title))
	}
	indent := strings.Repeat(" ", width+4)
	for _, it := range r.Items {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(it.Title))
		fmt.Fprintf(w, "%s %s%s  %s\n", it.Status.Mark(), it.Title, pad, terminalSafe(it.Detail))
		if it.Status != doctor.OK && it.Fix != "" {
			fmt.Fprintf(w, "%sfix: %s\n", indent, terminalSafe(it.Fix))
		}
	}
	fmt.Fprintf(w, "\n%s\n", r.Summary())
}

func exitCode(r doctor.Report) int {
	if r.Failed() {
		return 1
	}
	return 0
}

// terminalSafe keeps text read from Graph (group names) from moving the cursor or
// recolouring the terminal: control characters are shown escaped.
func terminalSafe(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func plural(n int, one, other string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, other)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// tenantCheckConfig is what the tenant check compares the tenant with, from tapbot's
// configuration: the CLI and /doctor use the same.
func tenantCheckConfig(cfg Config) doctor.Config {
	return doctor.Config{
		AppID: cfg.AppID, TenantID: cfg.TenantID,
		HelpdeskGroups: cfg.HelpdeskGroups, AuditorGroups: cfg.AuditorGroups, ProtectedGroups: cfg.Protected,
		ScopeGroups: cfg.ScopeGroups, OnboardingGroups: cfg.Onboarding, AdminGroups: cfg.AdminGroups,
		ApproverGroups: cfg.ApproverGroups, JoinerGroups: cfg.JoinerGroups, TeamsAppID: cfg.TeamsAppID, ApproversConversation: cfg.ApproversConversation, VerifyOff: cfg.VerifyOff,
	}
}

// devGraphCredential is the simulated tenant's Graph token: shaped like an Entra
// app-only token (an unsigned JWT) whose roles claim holds the permissions the
// simulated tenant grants tapbot's app (simtenant.Tenant.AppRoles: by default every
// permission of tapbot's table, --fix's included), so that the permission check has
// something real to read and the simulated tenant enforces the same set.
type devGraphCredential struct{ roles []string }

func (c devGraphCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: devGraphToken(c.roles), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// devGraphToken builds that token: header.payload. with no signature ("alg": "none").
func devGraphToken(roles []string) string {
	payload, _ := json.Marshal(map[string]any{
		"aud":   "https://graph.microsoft.com",
		"iss":   "https://sts.windows.net/" + simtenant.ContosoTenantID + "/",
		"tid":   simtenant.ContosoTenantID,
		"appid": devAppID,
		"roles": roles,
	})
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}
