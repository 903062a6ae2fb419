"""Fixtures for the sandbox tests: the provisioned Asterisk root and the ports these tests own.

Ports: main instance SIP 15060 (UDP+TCP), HTTP/ARI 18088, RTP 16000-16499; SIP peer 15070, RTP 17000-17499
(a developer's instance uses 5060/8088, other test suites 25060/28088 and 35060/38088).

The test session provisions the root before collection (tests/conftest.py); a missing root is a failure.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from dialplan.asterisk.paths import asterisk_root, marker_path

MAIN_SIP_PORT = 15060
MAIN_HTTP_PORT = 18088
MAIN_RTP = (16000, 16499)
PEER_SIP_PORT = 15070
PEER_RTP = (17000, 17499)


@pytest.fixture(scope="session")
def provisioned_root() -> Path:
    """The debootstrap root with Asterisk 22 (the session provisions it; missing here is a failure)."""
    root = asterisk_root()
    if not marker_path(root).exists():
        message = (
            f"Asterisk root {root} is not provisioned (no {marker_path(root).name}); run "
            "dialplan.asterisk.provision.provision_root or `ringline asterisk up` first"
        )
        pytest.fail(message)
    return root


def db_fields(dsn: str) -> dict[str, str | int]:
    """``AsteriskInstance`` db_* keyword arguments from a ``postgresql://user[:pw]@host:port/db`` DSN."""
    parts = urlsplit(dsn)
    return {
        "db_host": parts.hostname or "127.0.0.1",
        "db_port": parts.port or 5432,
        "db_name": unquote(parts.path.lstrip("/")),
        "db_user": unquote(parts.username or "postgres"),
        "db_password": unquote(parts.password or ""),
    }
