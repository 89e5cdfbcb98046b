// go-service: the example Go service that monitorGoService (lib/prometheus/go-service.ts) scrapes.
// Its public port serves the app and, by default, Prometheus metrics (client_golang: the Go and
// process collectors and its own request counter and histogram); net/http/pprof is served on a
// separate, loopback-only listener, reached with `kubectl port-forward` and never through a Service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	listen := flag.String("listen", ":8080", "address of the public port: the app, /healthz, /readyz, and the metrics unless -metrics-listen is set")
	metricsListen := flag.String("metrics-listen", "", "address of a port of its own for the metrics (monitorGoService's metricsPort); empty: the public port serves them")
	metricsPath := flag.String("metrics-path", "/metrics", "HTTP path of the metrics (monitorGoService's metricsPath)")
	pprofListen := flag.String("pprof-listen", "127.0.0.1:6060", "loopback address of net/http/pprof (monitorGoService's pprofPort); empty: off")
	flag.Parse()
	if err := run(*listen, *metricsListen, *metricsPath, *pprofListen); err != nil {
		log.Fatal(err)
	}
}

func run(listen, metricsListen, metricsPath, pprofListen string) error {
	if pprofListen != "" {
		if err := requireLoopback(pprofListen); err != nil {
			return fmt.Errorf("-pprof-listen: %w", err)
		}
	}

	// A registry of its own, not the global one: exactly these collectors, nothing a library registers.
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "HTTP requests answered, by handler, method and status code."}, []string{"handler", "method", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Time to answer an HTTP request, by handler.", Buckets: prometheus.DefBuckets}, []string{"handler", "method", "code"})
	registry.MustRegister(requests, duration)
	instrument := func(name string, handler http.HandlerFunc) http.Handler {
		labels := prometheus.Labels{"handler": name}
		return promhttp.InstrumentHandlerCounter(requests.MustCurryWith(labels), promhttp.InstrumentHandlerDuration(duration.MustCurryWith(labels), handler))
	}
	metrics := promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry})

	// Its own ServeMux: importing net/http/pprof registers /debug/pprof/ on http.DefaultServeMux,
	// which must never be served on a public port.
	public := http.NewServeMux()
	public.Handle("GET /{$}", instrument("hello", hello))
	public.Handle("GET /work", instrument("work", work))
	public.HandleFunc("GET /healthz", ok)
	public.HandleFunc("GET /readyz", ok)
	servers := []*http.Server{{Addr: listen, Handler: public}}
	if metricsListen == "" {
		public.Handle("GET "+metricsPath, metrics)
	} else {
		own := http.NewServeMux()
		own.Handle("GET "+metricsPath, metrics)
		servers = append(servers, &http.Server{Addr: metricsListen, Handler: own})
	}
	if pprofListen != "" {
		servers = append(servers, &http.Server{Addr: pprofListen, Handler: pprofMux()})
	}
	return serve(servers)
}

// requireLoopback refuses an address that another machine could reach (":6060", "0.0.0.0:6060").
func requireLoopback(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not a loopback address (127.0.0.1:<port>, [::1]:<port> or localhost:<port>): pprof stays private", address)
	}
	return nil
}

// pprofMux serves the profiles of net/http/pprof: the index links the named ones (heap, goroutine, ...).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func hello(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, "hello from go-service")
}

// work spends ?ms= milliseconds of CPU (at most 1000), something for the CPU profile to show.
func work(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > 1000 {
		http.Error(w, "ms must be a whole number from 0 to 1000", http.StatusBadRequest)
		return
	}
	sum := 0
	for end := time.Now().Add(time.Duration(ms) * time.Millisecond); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			sum += i
		}
	}
	fmt.Fprintf(w, "worked %d ms (%d)\n", ms, sum)
}

func ok(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, "ok")
}

// serve listens on every address first (so a taken port fails at once), serves until SIGTERM or
// SIGINT, then shuts down gracefully.
func serve(servers []*http.Server) error {
	listeners := make([]net.Listener, len(servers))
	for i, server := range servers {
		listener, err := net.Listen("tcp", server.Addr)
		if err != nil {
			return err
		}
		listeners[i] = listener
		log.Printf("listening on %s", listener.Addr())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	failed := make(chan error, len(servers))
	for i, server := range servers {
		go func() {
			if err := server.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				failed <- err
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, server := range servers {
		_ = server.Shutdown(shutdown)
	}
	return err
}
