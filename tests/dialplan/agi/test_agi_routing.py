"""The route decision and the environment's accessors, as pure functions (no peers)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from dialplan.agi.channel import quote_argument
from dialplan.agi.environment import AgiEnvironment
from dialplan.agi.routing import decide, tenant_slug
from engine.calls.state import Route
from engine.calls.store import TenantRoute
from tests.dialplan.agi.client import asterisk_environment, unquote

ENDPOINT = Route("endpoint", "acme-1001", "PJSIP/acme-1001", 25, "voicemail", "1001")


def env_of(**headers: str) -> AgiEnvironment:
    return AgiEnvironment(MappingProxyType(headers))


@pytest.mark.parametrize(
    ("found", "status", "cause"),
    [
        (TenantRoute(None, None, 0, None), "REJECTED", 21),
        (TenantRoute(1, "suspended", 10, ENDPOINT), "REJECTED", 21),
        (TenantRoute(1, "inactive", 10, ENDPOINT), "REJECTED", 21),
        (TenantRoute(1, "active", 10, None), "NOROUTE", 1),
        (TenantRoute(1, "trial", 10, Route("queue", "sales", "", 20)), "NOROUTE", 41),
        (TenantRoute(1, "trial", 10, ENDPOINT), "OK", None),
    ],
)
def test_decide_follows_the_engine_rules(found: TenantRoute, status: str, cause: int | None) -> None:
    decision = decide(found, "acme", "+15550100")
    assert (decision.status, decision.cause) == (status, cause)
    assert bool(decision.reason) is (status != "OK")


def test_ok_variables_carry_the_route_and_status_comes_last() -> None:
    variables = decide(TenantRoute(1, "active", 10, ENDPOINT), "acme", "+15550100").variables()
    assert list(variables.items()) == [
        ("RINGLINE_ROUTE_TYPE", "endpoint"),
        ("RINGLINE_DIAL", "PJSIP/acme-1001"),
        ("RINGLINE_RING_TIMEOUT", "25"),
        ("RINGLINE_FALLBACK_TYPE", "voicemail"),
        ("RINGLINE_FALLBACK_TARGET", "1001"),
        ("RINGLINE_ROUTE_CAUSE", ""),
        ("RINGLINE_ROUTE_REASON", ""),
        ("RINGLINE_ROUTE_STATUS", "OK"),
    ]


def test_refusal_variables_clear_the_dial_fields() -> None:
    variables = decide(TenantRoute(1, "active", 10, Route("ivr", "main", "", 20)), "acme", "+1555").variables()
    assert variables["RINGLINE_ROUTE_TYPE"] == "ivr"
    assert variables["RINGLINE_DIAL"] == variables["RINGLINE_RING_TIMEOUT"] == variables["RINGLINE_FALLBACK_TYPE"] == ""
    assert (variables["RINGLINE_ROUTE_STATUS"], variables["RINGLINE_ROUTE_CAUSE"]) == ("NOROUTE", "41")


@pytest.mark.parametrize(
    ("headers", "tenant"),
    [
        ({"agi_arg_1": "acme", "agi_context": "ringline-agi-globex"}, "acme"),
        ({"agi_network_script": "route?tenant=acme", "agi_context": "ringline-agi-globex"}, "acme"),
        ({"agi_context": "ringline-agi-globex"}, "globex"),
        ({"agi_context": "ringline-globex"}, "globex"),
        ({"agi_context": "from-carrier"}, None),
        ({"agi_arg_1": " ", "agi_context": "ringline-agi-"}, None),
    ],
)
def test_tenant_slug_sources_in_order(headers: dict[str, str], tenant: str | None) -> None:
    assert tenant_slug(env_of(**headers)) == tenant


def test_environment_accessors() -> None:
    env = AgiEnvironment(MappingProxyType(asterisk_environment("ivr/?flow=main&x=1", args=("a", "b"))))
    assert (env.script, dict(env.query), env.args) == ("ivr", {"flow": "main", "x": "1"}, ("a", "b"))
    assert env_of(agi_arg_10="j", agi_arg_2="b", agi_arg_1="a").args == ("a", "b", "j")
    assert env_of(agi_extension="s", agi_dnid="unknown").dialled is None
    assert env_of(agi_extension="s", agi_dnid="+1555").dialled == "+1555"
    assert env_of(agi_extension="1001", agi_dnid="+1555").dialled == "1001"


@pytest.mark.parametrize("value", ["", "PJSIP/acme-1001", 'say "hi"', "back\\slash", "two  spaces\tand tab"])
def test_quoted_arguments_read_back_as_asterisk_parses_them(value: str) -> None:
    assert unquote(quote_argument(value)) == value


def test_line_breaks_never_reach_the_wire() -> None:
    assert quote_argument("a\nb\r\nc") == '"a b  c"'
