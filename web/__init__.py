"""Ringline web layer: aiohttp health/status page, metrics and the REST API (``auth/``: login, tokens, API keys,
users; ``permissions.py``: the role -> permission matrix); Socket.IO and dashboards later."""
