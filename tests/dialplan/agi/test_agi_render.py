"""The AGI contexts and modules in the rendered configs (fake root, no Asterisk)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dialplan.asterisk.config import AsteriskInstance
from dialplan.asterisk.errors import InstanceConfigError
from dialplan.asterisk.modules import MAIN_MODULES, MAIN_PRELOAD, MODULE_DIR
from dialplan.asterisk.render import render_main_files


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    uid, gid = os.getuid(), os.getgid()
    (root / "etc" / "passwd").write_text(f"asterisk:x:{uid}:{gid}::/:/bin/false\n")
    (root / "etc" / "group").write_text(f"asterisk:x:{gid}:\n")
    (root / MODULE_DIR).mkdir(parents=True)
    for name in (*MAIN_PRELOAD, *MAIN_MODULES):
        (root / MODULE_DIR / name).touch()
    return root


def given_instance(root: Path, **overrides: object) -> AsteriskInstance:
    fields: dict[str, object] = {
        "name": "unit",
        "root": root,
        "ari_user": "ringline",
        "ari_password": "s3cret",
        "tenants": ("acme", "globex"),
    }
    fields.update(overrides)
    return AsteriskInstance(**fields)  # type: ignore[arg-type]


def test_no_agi_port_renders_no_agi_context(fake_root: Path) -> None:
    assert "ringline-agi-" not in render_main_files(given_instance(fake_root))["extensions.conf"]


def test_each_tenant_gets_an_agi_context_with_the_port(fake_root: Path) -> None:
    text = render_main_files(given_instance(fake_root, agi_port=4573))["extensions.conf"]
    for slug in ("acme", "globex"):
        block = text.split(f"[ringline-agi-{slug}]\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert block[0] == f"exten => _[+0-9*#a-zA-Z].,1,AGI(agi://127.0.0.1:4573/route,{slug})"
        assert " same => n,Dial(${RINGLINE_DIAL},${RINGLINE_RING_TIMEOUT})" in block
        assert " same => n(voicemail),Goto(ringline-voicemail,${RINGLINE_FALLBACK_TARGET},1)" in block
        assert " same => n(refused),Hangup(${RINGLINE_ROUTE_CAUSE})" in block
    assert "[ringline-acme]\nexten => _[+0-9*#a-zA-Z].,1,Stasis(ringline,acme)" in text  # Stasis stays


def test_agi_modules_are_loaded(fake_root: Path) -> None:
    loaded = re.findall(r"^load => (\S+)$", render_main_files(given_instance(fake_root))["modules.conf"], re.M)
    assert loaded.index("res_speech.so") < loaded.index("res_agi.so")


@pytest.mark.parametrize("port", [0, 70000, 5060, 8088])
def test_agi_port_is_checked(fake_root: Path, port: int) -> None:
    with pytest.raises(InstanceConfigError, match="agi_port"):
        given_instance(fake_root, agi_port=port)
