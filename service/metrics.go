package service

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are what /metrics exports, in the service's own registry.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	queueDepth *prometheus.GaugeVec
	batchSize  *prometheus.HistogramVec
	backend    *prometheus.GaugeVec
	fallbacks  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_requests_total", Help: "API requests by route and HTTP status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tessera_request_duration_seconds", Help: "API request latency, arrival to answer.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"route"}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_queue_depth", Help: "Requests waiting for a batch, per bank.",
		}, []string{"bank"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tessera_batch_size", Help: "Images scored together in one backbone pass and search.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}, []string{"bank"}),
		backend: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_backend_info", Help: "The compute backend a bank runs on (1).",
		}, []string{"bank", "backend"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_gpu_fallbacks_total", Help: "Device failures after which a bank moved to the CPU.",
		}, []string{"bank"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.queueDepth, m.batchSize, m.backend, m.fallbacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
