"""provision_root without the network: the marker short-circuit and the failure paths (fake debootstrap)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dialplan.asterisk import provision
from dialplan.asterisk.errors import ProvisionError
from dialplan.asterisk.paths import marker_path


def test_marker_present_returns_without_running_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "asterisk-root"
    root.mkdir()
    marker_path(root).write_text("asterisk asterisk-modules baresip-core\n")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("provision_root ran a command although the marker exists")

    monkeypatch.setattr(subprocess, "run", forbidden)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    provision.provision_root(root, log=lambda _: None)


def test_not_root_is_a_provision_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ProvisionError, match="needs root"):
        provision.provision_root(tmp_path / "asterisk-root", log=lambda _: None)


def test_root_without_marker_is_not_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    root = tmp_path / "asterisk-root"
    root.mkdir()
    (root / "precious").write_text("x")
    with pytest.raises(ProvisionError, match=r"no \.ringline-ready marker"):
        provision.provision_root(root, log=lambda _: None)
    assert (root / "precious").exists()


def test_failing_debootstrap_shows_its_log_and_stale_partial_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    fake = tmp_path / "debootstrap"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "stale still there: $(ls \\"$4\\" 2>/dev/null)"\n'
        'echo "E: Failed getting release file http://deb.debian.org/debian/dists/sid/Release"\n'
        "exit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake) if name == "debootstrap" else None)
    root = tmp_path / "asterisk-root"
    partial = tmp_path / "asterisk-root.partial"
    partial.mkdir()
    (partial / "leftover").write_text("from an interrupted run")
    steps: list[str] = []
    with pytest.raises(ProvisionError) as info:
        provision.provision_root(root, log=steps.append)
    message = str(info.value)
    assert "debootstrap failed (exit 1)" in message
    assert "Failed getting release file" in message
    assert "stale still there: \n" in message + "\n"
    assert any("removing stale" in s for s in steps)
    assert not root.exists()
    assert not marker_path(root).exists()
