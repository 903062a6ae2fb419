"""Authentication and authorisation: login, JWT access tokens, rotating refresh tokens, API keys, the guard.

Role files: ``config.py`` (secrets and lifetimes), ``tokens.py`` (argon2, JWT, opaque tokens: pure), ``guard.py``
(the one middleware that authenticates and authorises every ``/api/`` route), ``schemas.py`` (pydantic bodies),
``store.py`` (SQL, every function scoped by ``tenant_id``), ``services.py`` (use cases), ``http.py`` (routes).
"""
