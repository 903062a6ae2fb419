"""Call records: finished calls (``cdr``), their channels (``call_legs``) and live state (``active_calls``).

``call_id`` (uuid) is Ringline's call identity, shared by the three tables; ``call_legs.channel_id`` is the
Asterisk channel id (ARI ``Channel.id``). Times are ``timestamptz``; durations are whole seconds.

``cdr`` is also the default table name of Asterisk's ``cdr_pgsql``: never point that module at this
database without setting its ``table=`` to something else.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ara_schema.tables import metadata

DIRECTIONS = ("inbound", "outbound", "internal")
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
"""Asterisk CDR dispositions, verbatim. Source: Asterisk ``main/cdr.c`` ``ast_cdr_disp2str``."""
LEG_ROLES = ("caller", "callee")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _ts(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tenant_fk() -> sa.Column[int]:
    return sa.Column("tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id"), nullable=False)


cdr = sa.Table(
    "cdr",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _tenant_fk(),
    sa.Column("call_id", postgresql.UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("did", sa.Text, nullable=True),
    sa.Column("caller_id_num", sa.Text, nullable=True),
    sa.Column("caller_id_name", sa.Text, nullable=True),
    sa.Column("destination", sa.Text, nullable=True),
    sa.Column("disposition", sa.Text, nullable=False),
    _ts("start_at", nullable=False),
    _ts("answer_at", nullable=True),
    _ts("end_at", nullable=False),
    sa.Column("duration_s", sa.Integer, nullable=False),
    sa.Column("billsec_s", sa.Integer, nullable=False),
    sa.Column("hangup_cause", sa.Integer, nullable=True),
    sa.Column("hangup_cause_text", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
    sa.CheckConstraint(_in("disposition", DISPOSITIONS), name="disposition"),
    sa.CheckConstraint("duration_s >= 0 AND billsec_s >= 0", name="durations"),
    sa.Index(None, "tenant_id", "start_at"),
)
"""One finished call. ``duration_s`` = end - start, ``billsec_s`` = end - answer (0 if unanswered), seconds;
``hangup_cause`` is the Q.850 cause code."""

call_legs = sa.Table(
    "call_legs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    _tenant_fk(),
    sa.Column("call_id", postgresql.UUID(as_uuid=True), nullable=False),
    sa.Column("channel_id", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("endpoint", sa.Text, nullable=True),
    _ts("start_at", nullable=False),
    _ts("answer_at", nullable=True),
    _ts("end_at", nullable=True),
    sa.Column("hangup_cause", sa.Integer, nullable=True),
    sa.CheckConstraint(_in("role", LEG_ROLES), name="role"),
    sa.Index(None, "call_id"),
)
"""One Asterisk channel of a call; ``end_at`` NULL while the channel lives; ``endpoint`` e.g.
``PJSIP/acme-1001``."""

active_calls = sa.Table(
    "active_calls",
    metadata,
    sa.Column("call_id", postgresql.UUID(as_uuid=True), primary_key=True),
    _tenant_fk(),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("snapshot", postgresql.JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index(None, "owner"),
)
"""Live call state persisted by the engine instance ``owner`` so a restarted engine can re-adopt its calls;
``snapshot`` is the engine's JSON state, ``state`` its state name."""
