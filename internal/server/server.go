// Package server is tapbot's HTTP front: /api/messages (the bot), /healthz, /readyz and
// /metrics, with request ids, access logs, panic recovery and graceful shutdown.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tapbot/tapbot/internal/requestid"
	"go.uber.org/zap"
)

// Check is a readiness check: nil when the dependency is usable.
type Check func(ctx context.Context) error

// Server serves tapbot's HTTP endpoints.
type Server struct {
	srv *http.Server
	log *zap.Logger
}

// New assembles the routes. checks run on /readyz; reg is exposed on /metrics.
func New(bot http.Handler, checks map[string]Check, reg *prometheus.Registry, log *zap.Logger) *Server {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tapbot_http_requests_total", Help: "HTTP requests by handler and status code.",
	}, []string{"handler", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tapbot_http_request_duration_seconds", Help: "HTTP request latency by handler.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
	}, []string{"handler"})
	reg.MustRegister(requests, latency)
	instrument := func(name string, h http.Handler) http.Handler {
		return promhttp.InstrumentHandlerCounter(requests.MustCurryWith(prometheus.Labels{"handler": name}),
			promhttp.InstrumentHandlerDuration(latency.MustCurryWith(prometheus.Labels{"handler": name}), h))
	}

	mux := http.NewServeMux()
	mux.Handle("/api/messages", instrument("messages", bot))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", readyHandler(checks, log))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	return &Server{
		log: log,
		srv: &http.Server{
			Handler: withRequest(mux, log),
			// Slow-loris guards. Handlers answer fast; slow work runs in the background.
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    32 << 10,
			ErrorLog:          zap.NewStdLog(log.Named("http")),
		},
	}
}

// Serve answers on ln until ctx ends, then stops taking connections and waits up to
// grace for in-flight requests.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	s.log.Info("listening", zap.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining in-flight requests", zap.Duration("grace", grace))
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		// Requests still open at the deadline are closed. That is the grace working
		// as configured, not a failure: Teams redelivers what got no answer, and
		// activity-id deduplication keeps the redelivery from acting twice.
		s.log.Warn("drain deadline reached; closing the connections left", zap.Error(err))
		_ = s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func readyHandler(checks map[string]Check, log *zap.Logger) http.Handler {
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status := http.StatusOK
		result := make(map[string]string, len(names))
		for _, n := range names {
			if err := checks[n](ctx); err != nil {
				status = http.StatusServiceUnavailable
				result[n] = "fail"
				log.Warn("readiness check failed", zap.String("check", n), zap.Error(err))
				continue
			}
			result[n] = "ok"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(result)
	})
}

// withRequest gives each request an id (echoed as X-Request-Id), logs it, and turns a
// panic into a 500 without echoing anything of the request.
func withRequest(next http.Handler, log *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.New()
		w.Header().Set("X-Request-Id", id)
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("handler panicked", zap.String("request_id", id), zap.Any("panic", p), zap.Stack("stack"))
				if !rw.wrote {
					http.Error(rw, "internal error", http.StatusInternalServerError)
				}
			}
			lvl := zap.InfoLevel
			if r.URL.Path != "/api/messages" {
				lvl = zap.DebugLevel // probes and scrapes would drown the log
			}
			if ce := log.Check(lvl, "http request"); ce != nil {
				ce.Write(zap.String("request_id", id), zap.String("method", r.Method),
					zap.String("path", r.URL.Path), zap.Int("status", rw.status),
					zap.Duration("took", time.Since(start)), zap.String("ms_cv", r.Header.Get("MS-CV")))
			}
		}()
		next.ServeHTTP(rw, r.WithContext(requestid.With(r.Context(), id)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
