package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/plexpush/plex/pack"
)

// metrics are the node's Prometheus series, all prefixed plex_ and labelled
// with the node id so several servers can share one registry.
type metrics struct {
	gatherer prometheus.Gatherer

	connections   prometheus.Gauge
	background    prometheus.Gauge
	auths         *prometheus.CounterVec
	framesIn      prometheus.Counter
	framesOut     prometheus.Counter
	bytesIn       prometheus.Counter
	bytesOut      prometheus.Counter
	writes        prometheus.Counter
	closes        *prometheus.CounterVec
	errors        *prometheus.CounterVec
	badFrames     *prometheus.CounterVec
	refused       *prometheus.CounterVec
	timeouts      *prometheus.CounterVec
	acceptErrors  prometheus.Counter
	pushes        *prometheus.CounterVec
	pushLatency   prometheus.Histogram
	delivered     prometheus.Counter
	replayed      prometheus.Counter
	acks          prometheus.Counter
	upstream      *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	messages      *prometheus.CounterVec
	panics        prometheus.Counter
	budgetDrops   prometheus.Counter
	overtaken     prometheus.Counter
	legacyRefused prometheus.Counter
	fallbacks     *prometheus.CounterVec
}

func newMetrics(cfg *Config, srv *Server) (*metrics, error) {
	reg := cfg.Registerer
	var gatherer prometheus.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, gatherer = r, r
	} else {
		gatherer = cfg.Gatherer
		if gatherer == nil {
			if g, ok := reg.(prometheus.Gatherer); ok {
				gatherer = g
			} else {
				gatherer = prometheus.DefaultGatherer
			}
		}
	}
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"node": srv.nodeID}, reg)
	f := factory{reg: reg}
	m := &metrics{
		gatherer:     gatherer,
		connections:  f.gauge("connections", "Open connections (apps and push clients)."),
		background:   f.gauge("background_connections", "Connections in background heartbeat mode (protocol §11.1)."),
		auths:        f.counterVec("auth_total", "Authentication attempts by result.", "result"),
		framesIn:     f.counter("frames_in_total", "Frames received."),
		framesOut:    f.counter("frames_out_total", "Frames written."),
		bytesIn:      f.counter("bytes_in_total", "Bytes received."),
		bytesOut:     f.counter("bytes_out_total", "Bytes written."),
		writes:       f.counter("writes_total", "Write system calls (writev); frames_out/writes is the batching factor."),
		budgetDrops:  f.counter("write_budget_drops_total", "Slowest consumers closed (3002) because the node's queued output passed Config.WriteBudgetBytes."),
		closes:       f.counterVec("closes_total", "Connections closed by the node, by code.", "code"),
		errors:       f.counterVec("errors_total", "Non-fatal /error replies, by code.", "code"),
		badFrames:    f.counterVec("bad_frames_total", "Undecodable or oversized frames.", "reason"),
		refused:      f.counterVec("refused_total", "Connections refused at accept.", "reason"),
		timeouts:     f.counterVec("timeouts_total", "Connections closed by a deadline.", "kind"),
		acceptErrors: f.counter("accept_errors_total", "Temporary accept errors (e.g. EMFILE)."),
		pushes:       f.counterVec("pushes_total", "Push requests by result.", "result"),
		pushLatency: f.histogram("push_seconds", "Time to accept and queue one push on every local connection.",
			prometheus.ExponentialBuckets(10e-6, 4, 10)),
		delivered:     f.counter("delivered_total", "Push frames queued to connections."),
		replayed:      f.counter("replayed_total", "Stored pushes replayed on (re)connect."),
		acks:          f.counter("acks_total", "Acks received from apps."),
		upstream:      f.counterVec("upstream_total", "Upstream app messages by fate.", "result"),
		rateLimited:   f.counterVec("rate_limited_total", "Frames or pushes refused with 4029, by quota.", "quota"),
		messages:      f.counterVec("messages_total", "User-to-user messages by result.", "result"),
		panics:        f.counter("panics_total", "Panics recovered while a connection's input was handled; that connection was closed with 3005."),
		overtaken:     f.counter("transient_overtaken_total", "Transient pushes written ahead of the user's persistent push still being stored (it waited longer than 250ms)."),
		fallbacks:     f.counterVec("fallbacks_total", "Vendor fallbacks fired (OnUndelivered for offline users, OnUnacked for pushes not acked within their ack timeout), and ack deadlines not kept (untracked: over Config.MaxAckDeadlines).", "reason"),
		legacyRefused: f.counter("legacy_pushes_refused_total", "Original /logic/send/msg pushes the node refused (no reply exists to tell the sender; each is logged at warn)."),
	}
	up := func(err error) float64 {
		if err != nil {
			return 0
		}
		return 1
	}
	f.gaugeFunc("ready", "1 when the node takes app connections and routes pushes (/readyz answers 200), else 0.",
		func() float64 { route, _ := srv.readiness(); return up(route) })
	f.gaugeFunc("store_ready", "1 when a persistent push would be stored now (/readyz?store=1 answers 200 for the store), else 0: "+
		"NATS away, no JetStream quorum, or a full disk.",
		func() float64 { _, store := srv.readiness(); return up(store) })
	if f.err != nil {
		return nil, f.err
	}
	return m, nil
}

type factory struct {
	reg prometheus.Registerer
	err error
}

func (f *factory) register(c prometheus.Collector) {
	if err := f.reg.Register(c); err != nil && f.err == nil {
		f.err = err
	}
}

func (f *factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "plex", Name: name, Help: help})
	f.register(c)
	return c
}

func (f *factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "plex", Name: name, Help: help})
	f.register(g)
	return g
}

func (f *factory) gaugeFunc(name, help string, fn func() float64) {
	f.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "plex", Name: name, Help: help}, fn))
}

func (f *factory) counterVec(name, help, label string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "plex", Name: name, Help: help}, []string{label})
	f.register(c)
	return c
}

func (f *factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "plex", Name: name, Help: help, Buckets: buckets})
	f.register(h)
	return h
}

func codeLabel(c pack.Code) string { return strconv.Itoa(int(c)) }
