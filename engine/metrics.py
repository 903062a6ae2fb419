"""Prometheus metrics of the engine (exposed by the web layer at ``/metrics``).

Names follow Prometheus conventions: ``_total`` counters, ``_seconds`` histograms.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ACTIVE_CALLS = Gauge("ringline_engine_active_calls", "Calls the engine is handling now")
CALLS = Counter("ringline_engine_calls_total", "Finished calls by CDR disposition", ["disposition"])
ARI_RECONNECTS = Counter("ringline_engine_ari_reconnects_total", "ARI events WebSocket reconnections")
ARI_EVENTS = Counter("ringline_engine_ari_events_total", "ARI events received", ["type"])
EVENT_HANDLING = Histogram(
    "ringline_engine_event_handling_seconds",
    "Time to map one ARI event to its call inbox (seconds)",
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05),
)
DECISION_LATENCY = Histogram(
    "ringline_engine_decision_latency_seconds",
    "From a caller's StasisStart to the engine's first ARI command for it (seconds)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0),
)
CALLS_READOPTED = Counter("ringline_engine_calls_readopted_total", "Calls re-adopted after a restart")
ORPHANS_HUNG_UP = Counter("ringline_engine_orphans_hung_up_total", "Orphan channels/bridges cleaned up")
CRM_WEBHOOK_RESULTS = Counter(
    "ringline_engine_crm_webhook_results_total",
    "CRM routing webhook asks by result: the CRM's action (route, voicemail, hangup) or why the DID's fallback"
    " was taken (timeout, connection_error, http_status, invalid_json, invalid_body, unknown_target,"
    " not_configured)",
    ["result"],
)
CRM_WEBHOOK_SECONDS = Histogram(
    "ringline_engine_crm_webhook_seconds",
    "From sending a CRM routing webhook request to its complete answer or failure (seconds)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)
EVENT_DELIVERIES = Counter(
    "ringline_engine_event_deliveries_total",
    "Event webhook delivery attempts by result: delivered (2xx), http_status, timeout, connection_error",
    ["result"],
)
