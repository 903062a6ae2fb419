"""Engine configuration: where ARI and PostgreSQL are, and the engine's own timers (named with units)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.webhooks.deliverer import DeliverySettings


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings of one engine process.

    ``ari_url`` is the HTTP base, e.g. ``http://127.0.0.1:8088`` (``/ari`` is appended by the client).
    ``database_url`` is a libpq URL (``postgresql://user@host:port/db``). ``instance_id`` names the owner of
    persisted live calls, so a restarted engine with the same id re-adopts them.
    """

    ari_url: str
    ari_user: str
    ari_password: str
    database_url: str
    app: str = "ringline"
    instance_id: str = "default"
    ari_retry_budget_s: float = 15.0
    """How long an ARI request is retried while ARI is unreachable before the call is given up (seconds)."""
    default_ring_timeout_s: int = 20
    """Ring timeout for internal extension-to-extension calls (seconds)."""
    crm_webhook_max_timeout_s: float = 10.0
    """Cap on any tenant's ``crm_webhooks.timeout_s`` (seconds; each webhook's own budget defaults to 3 s). The
    caller hears ringback meanwhile."""
    crm_webhook_max_response_bytes: int = 64 * 1024
    """Largest CRM webhook response body read (bytes); a longer one is an invalid body."""
    crm_webhook_connections: int = 100
    """Connection pool size of the engine's HTTP client session towards CRMs (simultaneous connections)."""
    event_delivery: DeliverySettings = field(default_factory=DeliverySettings)
    """Event webhooks (``event_outbox``): request timeout, batch size, poll interval, claim lease, retry backoff."""
