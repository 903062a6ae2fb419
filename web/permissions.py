"""The permission matrix: which role may do what. The ONLY place that says so.

Every API route names one :class:`Permission` (``web.auth.guard.requires``); the guard allows a request when the
principal's roles grant it (:func:`permissions_for`). Tests generate their cases from :data:`ROLE_PERMISSIONS`.

Roles (``ara_schema.tables.tenancy.ROLES``):

- ``superadmin``: everything, in any tenant (names one with ``X-Ringline-Tenant``), including platform actions.
- ``tenant_admin``: everything inside its own tenant.
- ``supervisor``: reads the tenant, listens to / whispers into / barges into calls, manages queues' agents.
- ``agent``: its own profile, takes and places calls.
- ``viewer``: read-only dashboards, the tenant's DIDs and extensions (with their registration).

Telephony objects: ``extensions.read``/``dids.read`` for viewer, supervisor and up; ``extensions.write``/
``dids.write`` for tenant_admin (and superadmin); agents neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ara_schema.tables.tenancy import ROLES


class Permission(StrEnum):
    """``<resource>.<action>``."""

    PROFILE_READ = "profile.read"
    PROFILE_WRITE = "profile.write"
    USERS_READ = "users.read"
    USERS_WRITE = "users.write"
    API_KEYS_READ = "api_keys.read"
    API_KEYS_WRITE = "api_keys.write"
    EXTENSIONS_READ = "extensions.read"
    EXTENSIONS_WRITE = "extensions.write"
    DIDS_READ = "dids.read"
    DIDS_WRITE = "dids.write"
    CALLS_READ = "calls.read"
    CALLS_PLACE = "calls.place"
    CALLS_LISTEN = "calls.listen"
    CALLS_WHISPER = "calls.whisper"
    CALLS_BARGE = "calls.barge"
    QUEUES_READ = "queues.read"
    QUEUES_WRITE = "queues.write"
    CDR_READ = "cdr.read"
    AUDIT_READ = "audit.read"
    TENANTS_READ = "tenants.read"
    TENANTS_WRITE = "tenants.write"
    TENANTS_ANY = "tenants.any"
    """Act in a tenant other than one's own (``X-Ringline-Tenant``)."""


P = Permission

_VIEWER = frozenset({P.PROFILE_READ, P.PROFILE_WRITE, P.CALLS_READ, P.QUEUES_READ, P.CDR_READ, P.DIDS_READ,
                      P.EXTENSIONS_READ})
_AGENT = frozenset({P.PROFILE_READ, P.PROFILE_WRITE, P.CALLS_READ, P.CALLS_PLACE, P.QUEUES_READ})
_SUPERVISOR = _VIEWER | _AGENT | {P.USERS_READ, P.CALLS_LISTEN, P.CALLS_WHISPER, P.CALLS_BARGE, P.QUEUES_WRITE}
_TENANT_ADMIN = _SUPERVISOR | {
    P.USERS_WRITE, P.API_KEYS_READ, P.API_KEYS_WRITE, P.DIDS_WRITE, P.EXTENSIONS_WRITE, P.AUDIT_READ, P.TENANTS_READ,
}
_PLATFORM_ONLY = frozenset({P.TENANTS_WRITE, P.TENANTS_ANY})

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "superadmin": frozenset(Permission),
    "tenant_admin": _TENANT_ADMIN,
    "supervisor": _SUPERVISOR,
    "agent": _AGENT,
    "viewer": _VIEWER,
}
"""role -> the permissions it grants."""

assert set(ROLE_PERMISSIONS) == set(ROLES), "every role of the schema has a row here"
assert not (_TENANT_ADMIN & _PLATFORM_ONLY), "tenant roles never act across tenants"


def permissions_for(roles: Iterable[str]) -> frozenset[Permission]:
    """The union of what ``roles`` grant (unknown role names grant nothing)."""
    granted: frozenset[Permission] = frozenset()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return granted


def may_grant(granter: frozenset[Permission], roles: Iterable[str]) -> bool:
    """True when ``granter`` holds every permission ``roles`` would give: nobody hands out more than they have."""
    return permissions_for(roles) <= granter
