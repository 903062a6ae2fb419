"""Inbound routing decided outside the DID table.

- :mod:`engine.routing.crm_webhook` — the CRM call-routing webhook as a protocol: signing, verification,
  payload, response schema, and one ``ask()`` over a shared aiohttp session.
- :mod:`engine.routing.webhook_route` — what a ``webhook`` DID does with the CRM's answer: a route to dial,
  voicemail, a hang-up, or the DID's fallback route.
"""
