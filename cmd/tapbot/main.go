// Command tapbot is the tapbot Teams bot: `serve` in production, `dev` locally with the
// Microsoft 365 Agents Playground and the simulated tenant, and the operator's tools
// beside them (`doctor`, `audit`, `store copy`, `manifest`, `permissions`,
// `checklist-content`, `healthcheck`); `tapbot help` lists them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // TAPBOT_TIMEZONE in a static binary without /usr/share/zoneinfo

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/audit"
	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/bot/checklist"
	"github.com/tapbot/tapbot/bot/connector"
	botdoctor "github.com/tapbot/tapbot/bot/doctor"
	"github.com/tapbot/tapbot/bot/onboard"
	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/graph/msgraph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/credential"
	"github.com/tapbot/tapbot/internal/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `tapbot — passwordless onboarding for Microsoft Teams and Entra ID

Usage:
  tapbot serve     run the bot (production: inbound tokens verified, real tenant)
  tapbot dev       run locally for the Agents Playground (loopback only, no inbound auth,
                   simulated tenant)
  tapbot audit [--since 24h|7d|2026-11-01] [--until …] [--user upn] [--format csv|json]
                   export the audit log (from TAPBOT_DB_PATH or TAPBOT_DATABASE_URL)
  tapbot store copy --from sqlite:PATH --to postgres://…
                   move an installation to PostgreSQL (into an empty database), verified
  tapbot doctor [--dev] [--fix [--yes] | --probe user@domain]
                   check the tenant's set-up (policies, permissions, groups); --fix makes
                   the changes tapbot can make, after confirmation, audited; --probe makes
                   every read request tapbot makes for that user once and says what fixes
                   each refusal (no writes, audited) — run it before go-live
  tapbot manifest [-o tapbot-teams-app.zip] [-app-id …] [-version 1.0.0] [-domain …]
                   write the Teams app package (manifest and icons) to upload to your org
  tapbot permissions [-write DIR]
                   print the Graph permission table (feature → call → permission → doc);
                   -write regenerates README.md and graph/msgraph/PERMISSIONS.md
  tapbot checklist-content
                   print the built-in new-hire checklist texts (JSON) to adapt and load
                   with TAPBOT_CHECKLIST_CONTENT
  tapbot healthcheck
                   exit 0 if the local server answers /healthz (for container health checks)
  tapbot version   print the version
  tapbot help      show this help and the configuration variables

Configuration comes from environment variables:
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	switch args[0] {
	case "serve", "dev":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "tapbot %s takes no arguments (configure with environment variables; see `tapbot help`)\n", args[0])
			return 2
		}
		cfg, err := loadConfig(args[0] == "dev", env)
		if err != nil {
			fmt.Fprintf(stderr, "tapbot: %v\n", err)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "tapbot: %v\n", err)
			return 1
		}
		return 0
	case "audit":
		return auditCmd(args[1:], env, stdout, stderr)
	case "store":
		return storeCmd(args[1:], env, stdout, stderr)
	case "doctor":
		return doctorCmd(args[1:], env, os.Stdin, stdout, stderr)
	case "manifest":
		return manifestCmd(args[1:], env, stdout, stderr)
	case "permissions":
		return permissionsCmd(args[1:], stdout, stderr)
	case "checklist-content":
		_, _ = stdout.Write(checklist.DefaultJSON())
		return 0
	case "healthcheck":
		return healthcheck(env, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "tapbot", version)
		return 0
	case "help", "--help", "-h":
		printUsage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "tapbot: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
}

// healthcheck probes the local server, for images without curl (distroless).
func healthcheck(env func(string) string, stderr io.Writer) int {
	addr := lookup(env, "TAPBOT_LISTEN_ADDR")
	if addr == "" {
		addr = ":3978"
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "tapbot healthcheck: TAPBOT_LISTEN_ADDR=%q: %v\n", addr, err)
		return 2
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/healthz")
	if err != nil {
		fmt.Fprintf(stderr, "tapbot healthcheck: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "tapbot healthcheck: status %d\n", resp.StatusCode)
		return 1
	}
	return 0
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	for _, s := range settings {
		name := s.names[0]
		if len(s.names) > 1 {
			name += " (or " + s.names[1] + ")"
		}
		fmt.Fprintf(w, "  %-52s %s\n", name, s.help)
	}
}

func newLogger(cfg Config, w io.Writer) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "time"
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	if cfg.LogFormat == "console" {
		encCfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	} else {
		enc = zapcore.NewJSONEncoder(encCfg)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core, zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(w)))), nil
}

// serve wires configuration into dependencies and runs the server until ctx ends.
func serve(ctx context.Context, cfg Config, logOut io.Writer) error {
	log, err := newLogger(cfg, logOut)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	log = log.With(zap.String("mode", map[bool]string{true: "dev", false: "serve"}[cfg.Dev]))

	// Listen first: in dev mode the bound address is checked again, after resolution,
	// so a name that resolves off-machine cannot slip through.
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	defer ln.Close()
	if cfg.Dev {
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			return fmt.Errorf("dev mode must listen on loopback, bound %s", ln.Addr())
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if cfg.Dev && cfg.DBPath == "" && cfg.DatabaseURL.IsZero() {
		// The simulated tenant lives in memory and starts fresh at every start; a
		// database kept from the last run would remember passes, users and chats it
		// no longer has (and redact live-looking passes as revoked). So dev starts
		// both fresh, unless TAPBOT_DB_PATH asks to keep the store.
		dir, err := os.MkdirTemp("", "tapbot-dev-")
		if err != nil {
			return fmt.Errorf("dev database: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.DBPath = filepath.Join(dir, "tapbot.db")
		log.Info("dev: fresh database for this run, removed at exit, like the simulated tenant (set TAPBOT_DB_PATH to keep one)",
			zap.String("path", cfg.DBPath))
	} else if cfg.Dev && cfg.DatabaseURL.IsZero() {
		log.Warn("dev: TAPBOT_DB_PATH keeps the store across restarts, but the simulated tenant starts fresh: passes, users and chats from earlier runs are gone from it")
	}
	st, exclusive, err := openStore(ctx, cfg, serverUse, log.Named("store"))
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "tapbot_store_write_failures_total", Help: "Writes to the store that failed (a full disk, a deleted database file, a read-only database).",
	}, func() float64 { return float64(st.WriteFailures()) }))
	checks := map[string]server.Check{"store": st.Ping}
	var validator auth.TokenValidator
	var graphClient *msgraph.Client
	connCfg := connector.Config{HTTPClient: instrumentedClient(reg)}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()

	if cfg.Dev {
		log.Warn("DEV MODE: inbound authentication is OFF; listening on loopback only; simulated tenant",
			zap.String("tenant_id", cfg.TenantID), zap.String("listen", ln.Addr().String()))
		validator = botauth.DevValidator{TenantID: cfg.TenantID}
		connCfg.CheckServiceURL = loopbackServiceURL
		// The simulated Contoso tenant, served over loopback TLS in Graph's wire format,
		// so the real Graph client code runs in dev too.
		tenant := simtenant.Contoso()
		fake := simtenant.NewServer(tenant)
		defer fake.Close()
		graphClient, err = msgraph.New(msgraph.Config{Credential: devGraphCredential{roles: tenant.AppRoles()}, BaseURL: fake.URL() + "/v1.0",
			HTTPClient: fake.Client()}, log.Named("graph"))
		if err != nil {
			return err
		}
	} else {
		v, err := botauth.New(botauth.Config{
			AppID: cfg.AppID, TenantID: cfg.TenantID, MetadataURL: cfg.MetadataURL, Issuers: cfg.Issuers,
		}, log.Named("botauth"))
		if err != nil {
			return err
		}
		// A failed first fetch is not fatal: /readyz reports it, requests answer 503,
		// and Run keeps retrying.
		_ = v.Refresh(ctx)
		go v.Run(runCtx)
		validator = v
		checks["signing_keys"] = func(context.Context) error {
			if !v.Ready() {
				return errors.New("bot framework signing keys not loaded")
			}
			return nil
		}
		connCred, err := newCredential(cfg, cfg.tokenTenant())
		if err != nil {
			return err
		}
		// Graph tokens always come from the tenant itself, also for legacy
		// multi-tenant bots whose Connector tokens come from botframework.com.
		graphCred := connCred
		if cfg.tokenTenant() != cfg.TenantID {
			if graphCred, err = newCredential(cfg, cfg.TenantID); err != nil {
				return err
			}
		}
		connCfg.Tokens = connector.NewCredentialTokens(connCred, connector.Scope)
		connCfg.CheckServiceURL = httpsServiceURL
		graphClient, err = msgraph.New(msgraph.Config{Credential: graphCred, BaseURL: cfg.GraphURL}, log.Named("graph"))
		if err != nil {
			return err
		}
		log.Info("tapbot starting", zap.String("version", version), zap.String("app_id", cfg.AppID),
			zap.String("tenant_id", cfg.TenantID), zap.String("credential", string(cfg.Credential)))
	}
	conn, err := connector.New(connCfg, log.Named("connector"))
	if err != nil {
		return err
	}
	h := bot.New(bot.Config{MaxBodyBytes: cfg.MaxBodyBytes}, validator, conn, st, bot.NewMetrics(reg), log.Named("bot"))
	flow, err := tap.New(tap.Config{
		HelpdeskGroups: cfg.HelpdeskGroups,
		Rules:          tap.Rules{ProtectedGroups: cfg.Protected, ScopeGroups: cfg.ScopeGroups, AllowedRoles: cfg.AllowedRoles},
		RequireReason:  cfg.RequireReason, MaxPerHour: cfg.MaxTAPsPerHour, Location: cfg.TimeZone,
		Verify: cfg.Verify, VerifyAfter: cfg.VerifyAfter, VerifyTimeout: cfg.VerifyTimeout,
		HelpdeskConversation: cfg.HelpdeskConversation, SecurityConversation: cfg.SecurityConversation,
	}, graphClient, conn, st, log.Named("tap"))
	if err != nil {
		return err
	}
	flow.Register(h)
	audit.New(audit.Config{AuditorGroups: cfg.AuditorGroups}, graphClient, st).Register(h)
	// Always registered, so /help matches the app manifest's command list; without
	// TAPBOT_ADMIN_GROUPS it explains that it is off.
	check := tenantCheckConfig(cfg)
	check.Conversations = st // the server's own store: /doctor sees the references it keeps
	botdoctor.New(botdoctor.Config{AdminGroups: cfg.AdminGroups, Check: check},
		graphClient, log.Named("doctor")).Register(h)
	// Every background loop is started here, stopped with runCtx and waited for
	// before the store closes (deferred above, so it runs after workers.Wait).
	var workers sync.WaitGroup
	defer workers.Wait()
	defer cancelRun()
	// SQLite admits one process per file (Open took the lock), so an intent still
	// open now was left by a process that stopped: reconcile every one. On
	// PostgreSQL another replica may be issuing that pass right now: reconcile only
	// the intents whose lease ran out, as the redactor does on every round.
	reconcileBefore := time.Now()
	if exclusive {
		reconcileBefore = reconcileBefore.Add(24 * time.Hour)
	}
	workers.Go(func() {
		if n, err := flow.ReconcileAbandoned(runCtx, reconcileBefore); err != nil {
			log.Error("reconciling unfinished passes at start failed; the redactor retries", zap.Error(err))
		} else if n > 0 {
			log.Warn("unfinished passes from the last run reconciled", zap.Int("count", n))
		}
		flow.RunRedactor(runCtx, 30*time.Second)
	})
	cl := checklist.New(checklist.Config{
		TenantID: cfg.TenantID, HelpdeskGroups: cfg.HelpdeskGroups, HelpdeskConversation: cfg.HelpdeskConversation,
		CatalogAppID: cfg.TeamsAppID, Content: cfg.ChecklistContent, RemindAfter: cfg.RemindAfter,
		StuckInterval: cfg.StuckInterval,
	}, graphClient, conn, st, log.Named("checklist"))
	cl.Register(h)
	flow.AnswerIssueWith(cl)
	workers.Go(func() { cl.Run(runCtx, time.Minute) })
	ob, err := onboard.New(onboard.Config{
		ApproverGroups: cfg.ApproverGroups, ApproversConversation: cfg.ApproversConversation,
		OnboardingGroups: cfg.Onboarding, AllowedGroups: cfg.OnboardGroupsAllowed,
		DefaultUsageLocation: cfg.DefaultUsageLocation, Location: cfg.TimeZone,
		HelpdeskConversation: cfg.HelpdeskConversation, Checklist: cl,
		HelpdeskGroups: cfg.HelpdeskGroups, JoinerGroups: cfg.JoinerGroups, JoinerLookahead: cfg.JoinerLookahead,
		StartDayTAPTo: cfg.StartDayTAPTo, StartDayTAPAt: cfg.StartDayTAPAt, StartDayTAPLifetime: cfg.StartDayTAPLifetime, Passes: flow,
		PeoplePicker: !cfg.Dev, // the playground has no people picker: a UPN field there
	}, graphClient, conn, st, log.Named("onboard"))
	if err != nil {
		return err
	}
	ob.Register(h)
	workers.Go(func() {
		// Alone on its store, this process resumes at once whatever provisioning the
		// last stop interrupted. Among replicas another one may be provisioning right
		// now: RunJobs resumes only requests stale for longer than a step can take.
		if exclusive {
			if err := ob.Resume(runCtx); err != nil {
				log.Error("resuming onboarding failed", zap.Error(err))
			}
		}
		ob.RunJobs(runCtx, time.Minute)
	})
	srv := server.New(h, checks, reg, log.Named("http"))

	if cfg.Dev {
		log.Info("chat with this bot in Microsoft's Teams emulator: in another terminal run " +
			"`cd e2e && npm ci && TAPBOT_URL=http://" + ln.Addr().String() + "/api/messages npm run playground` and open the URL it prints")
	}
	// One grace for everything: the HTTP drain, then background work, share a
	// deadline set when the stop signal came. Work still running at the cut is
	// cancelled; its audit rows and clean-up run on their own short contexts, and
	// the reserve keeps room for them inside the grace. What a cancelled /tap left
	// open is reconciled at the next start.
	stopped := make(chan time.Time, 1)
	go func() { <-ctx.Done(); stopped <- time.Now() }()
	err = srv.Serve(ctx, ln, cfg.ShutdownGrace-shutdownReserve(cfg.ShutdownGrace))
	deadline := cfg.ShutdownGrace - shutdownReserve(cfg.ShutdownGrace)
	select {
	case at := <-stopped:
		deadline -= time.Since(at)
	default: // Serve failed on its own
	}
	sctx, cancel := context.WithTimeout(context.Background(), max(deadline, 0))
	defer cancel()
	if berr := h.Shutdown(sctx); berr != nil {
		log.Warn("background work cut short at shutdown; unfinished passes are reconciled at the next start", zap.Error(berr))
	}
	cancelRun()
	workers.Wait()
	log.Info("stopped")
	return err
}

// shutdownReserve is the part of the shutdown grace kept for the clean-up of work
// cut short (audit rows, deleting a pass whose delivery did not finish).
func shutdownReserve(grace time.Duration) time.Duration {
	return min(grace/3, 10*time.Second)
}

func newCredential(cfg Config, tenant string) (azcore.TokenCredential, error) {
	return credential.New(credential.Config{
		Kind: cfg.Credential, TenantID: tenant, ClientID: cfg.AppID,
		Secret: cfg.AppPassword.Reveal(), CertificatePath: cfg.CertificatePath,
		CertificatePassword: cfg.CertificatePassword.Reveal(), TokenFilePath: cfg.FederatedTokenFile,
		AuthorityHost: cfg.AuthorityHost,
	})
}

// httpsServiceURL lets the Connector token go only to https service URLs; those come
// from activities whose signed serviceurl claim matched.
func httpsServiceURL(u *url.URL) error {
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("service URL %s is not https", u.Redacted())
	}
	return nil
}

// loopbackServiceURL keeps dev mode from being used to send requests anywhere but the
// local emulator.
func loopbackServiceURL(u *url.URL) error {
	if !botauth.IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("dev mode only sends to loopback service URLs, not %s", u.Host)
	}
	return nil
}

func instrumentedClient(reg prometheus.Registerer) *http.Client {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tapbot_connector_requests_total", Help: "Requests to the Bot Connector by method and status code.",
	}, []string{"method", "code"})
	reg.MustRegister(calls)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 20 * time.Second, Transport: promhttp.InstrumentRoundTripperCounter(calls, t)}
}
