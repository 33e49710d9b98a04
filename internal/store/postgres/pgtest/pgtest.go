// Package pgtest gives tests a real PostgreSQL server: the one
// TAPBOT_TEST_DATABASE_URL names, or else a throwaway cluster that Main starts
// with Debian's PostgreSQL binaries (initdb, pg_ctl) and stops when the tests end.
// Each test gets a database of its own from NewDatabase.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where Debian's postgresql package puts the server binaries.
const BinDir = "/usr/lib/postgresql/15/bin"

// EnvURL names a running server to use instead of a throwaway cluster. Its user
// must be allowed to create databases.
const EnvURL = "TAPBOT_TEST_DATABASE_URL"

// server is the server of this test binary: set by Main, read by NewDatabase.
var server struct {
	url string // admin URL (database postgres or the one EnvURL names)
	err error  // why there is none
}

// Main starts the server if needed, runs the tests and stops it. It returns the
// exit code for os.Exit.
func Main(m *testing.M) int {
	if u := os.Getenv(EnvURL); u != "" {
		server.url = u
		return m.Run()
	}
	c, err := startCluster()
	if err != nil {
		server.err = err
		return m.Run() // NewDatabase skips (or fails under CI) with err
	}
	server.url = c.url
	defer c.stop()
	return m.Run()
}

var dbSeq struct {
	sync.Mutex
	n int
}

// NewDatabase creates an empty database for t, dropped when t ends, and returns
// its URL. Without a server it skips t, or fails it when the CI variable is set:
// CI must run these tests, not skip them.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if server.url == "" {
		msg := "no PostgreSQL for this test: set " + EnvURL + " or install Debian's postgresql (" + BinDir + ")"
		if server.err != nil {
			msg += ": " + server.err.Error()
		}
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dbSeq.Lock()
	dbSeq.n++
	name := fmt.Sprintf("tapbot_test_%d_%d", os.Getpid(), dbSeq.n)
	dbSeq.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'`); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	u, err := url.Parse(server.url)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// admin runs one statement on the server's admin database.
func admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, server.url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// StartServer starts a throwaway cluster for a program that is not a test (the load
// generator) and returns the URL of an empty database on it, and a function that stops
// the cluster and removes its files.
func StartServer() (url string, stop func(), err error) {
	c, err := startCluster()
	if err != nil {
		return "", nil, err
	}
	server.url = c.url
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := admin(ctx, "CREATE DATABASE tapbot TEMPLATE template0"); err != nil {
		c.stop()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	return strings.Replace(c.url, "/postgres?", "/tapbot?", 1), c.stop, nil
}

type cluster struct {
	url  string
	stop func()
}

// startCluster initialises a cluster in a temporary directory and starts it on a
// free loopback port. PostgreSQL refuses to run as root, so as root the binaries
// run as the postgres user, which then owns the directory.
func startCluster() (*cluster, error) {
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err != nil {
		return nil, fmt.Errorf("PostgreSQL binaries not found: %w", err)
	}
	dir, err := os.MkdirTemp("", "tapbot-pg-")
	if err != nil {
		return nil, err
	}
	run, err := runner(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	// A port nobody else uses cannot be reserved, only tried: pick one at random
	// and try the next on "could not bind".
	for attempt := 0; attempt < 20; attempt++ {
		n, err := rand.Int(rand.Reader, big.NewInt(30000))
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		port := 20000 + int(n.Int64())
		logFile := filepath.Join(dir, "server.log")
		_ = os.Remove(logFile)
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port, dir)
		out, err := run("pg_ctl", "-D", data, "-l", logFile, "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
		if err != nil {
			logged, _ := os.ReadFile(logFile)
			if strings.Contains(string(logged), "could not bind") || strings.Contains(string(logged), "already in use") {
				continue
			}
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pg_ctl start: %v: %s%s", err, out, logged)
		}
		c := &cluster{url: "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable"}
		c.stop = func() {
			_ = run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run()
			os.RemoveAll(dir)
		}
		return c, nil
	}
	os.RemoveAll(dir)
	return nil, errors.New("pg_ctl start: no free port after 20 tries")
}

// runner returns a function making commands that run a binary of BinDir: as
// the postgres user when this process is root (dir is then handed to that user),
// as this process's user otherwise.
func runner(dir string) (func(name string, args ...string) *exec.Cmd, error) {
	if os.Geteuid() != 0 {
		return func(name string, args ...string) *exec.Cmd {
			return exec.Command(filepath.Join(BinDir, name), args...)
		}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and no postgres user to run PostgreSQL as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(BinDir, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Dir = dir // the postgres user may not be able to enter our working directory
		cmd.Env = append(os.Environ(), "HOME="+dir)
		return cmd
	}, nil
}
