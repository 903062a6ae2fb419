"""Event webhooks to CRMs: event shapes (``events``), the durable outbox (``outbox``), retry timing
(``backoff``) and the task that delivers (``deliverer``)."""
