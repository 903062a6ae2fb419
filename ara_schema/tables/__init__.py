"""One SQLAlchemy ``MetaData`` holding every table of the Ringline database.

- ``pjsip``: Asterisk Realtime (ARA) PJSIP tables, column-compatible with Asterisk's alembic head
  ``e89e30cee53f`` (Asterisk 22.10). No Ringline columns: sorcery rejects unknown fields.
- ``tenancy``: ``tenants``, ``users``, ``user_roles``, ``dids``.
- ``calls``: ``cdr``, ``call_legs``, ``active_calls``.
- ``audit``: ``audit_log``.
- ``crm``: ``crm_webhooks``.
- ``events``: ``event_subscriptions``, ``event_outbox``.
- ``auth``: ``refresh_tokens``, ``api_keys``.

Constraint names follow PostgreSQL's own defaults (``<table>_pkey``, ``<table>_<col>_key``,
``<table>_<col>_fkey``, ``<table>_<name>_check``) so ``IntegrityViolation.constraint_name`` reads the same
whether a table came from these definitions or from the migrations.
"""

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "pk": "%(table_name)s_pkey",
        "uq": "%(table_name)s_%(column_0_N_name)s_key",
        "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
        "ck": "%(table_name)s_%(constraint_name)s_check",
        "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    }
)

# The table modules attach themselves to ``metadata``; import them after it exists.
from ara_schema.tables import audit, auth, calls, crm, events, pjsip, tenancy  # noqa: E402

__all__ = ["audit", "auth", "calls", "crm", "events", "metadata", "pjsip", "tenancy"]
