"""Build the debootstrap root that holds Asterisk 22 (Debian unstable) without touching the host.

Layout produced (``root`` defaults to :func:`dialplan.asterisk.paths.asterisk_root`)::

    <root>.partial/          built here first; a stale one from an interrupted run is deleted
    <root>/                  atomic rename of the finished .partial
    <root>/.ringline-ready   written last; content "asterisk asterisk-modules baresip-core\\n"
    <root>.provision.log     output of debootstrap and apt (the tail is quoted in ProvisionError)

Steps (as verified in REAL_PEERS.md): ``apt-get install debootstrap`` on the host if missing, ``debootstrap
--variant=minbase --include=ca-certificates sid``, then inside the root ``apt-get update`` and ``apt-get
install --no-install-recommends`` of :data:`PACKAGES`, both with ``Acquire::Check-Valid-Until=false``
(unstable's Release file can read as expired against the machine's clock). About 650 MB, ~1 min.

The call is idempotent: if the marker exists it returns at once without any check.
Source: debootstrap(8), apt-get(8).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from dialplan.asterisk.errors import ProvisionError
from dialplan.asterisk.paths import marker_path

__all__ = ["DEBIAN_SUITE", "PACKAGES", "provision_root"]

PACKAGES: tuple[str, ...] = ("asterisk", "asterisk-modules", "baresip-core")
"""Debian packages installed into the root; also the marker's content."""

DEBIAN_SUITE = "sid"
"""Debian 12 has no ``asterisk`` package; unstable has Asterisk 22."""

_APT_OPTS: tuple[str, ...] = ("-o", "Acquire::Check-Valid-Until=false")
_LOG_TAIL_LINES = 40


def provision_root(
    root: Path,
    *,
    log: Callable[[str], None] = print,
    mirror: str | None = None,
) -> None:
    """Make ``root`` a finished Asterisk root, building it if its marker is missing.

    Args:
        root: host path of the root to produce (its parent is created).
        log: receives one short progress line per step.
        mirror: Debian mirror URL for debootstrap; default ``$RINGLINE_DEBIAN_MIRROR`` or debootstrap's own.

    Raises:
        ProvisionError: not running as root; ``root`` exists without a marker (not ours to delete);
            debootstrap cannot be installed or fails; apt inside the root fails; ``asterisk -V`` fails.
            The message ends with the tail of ``<root>.provision.log``.
    """
    root = Path(root)
    if marker_path(root).exists():
        return
    if os.geteuid() != 0:
        raise ProvisionError(f"building {root} needs root (debootstrap and chroot); run as root")
    if root.exists():
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()
        else:
            raise ProvisionError(
                f"{root} exists but has no {marker_path(root).name} marker; remove it to rebuild"
            )
    root.parent.mkdir(parents=True, exist_ok=True)
    partial = root.with_name(root.name + ".partial")
    log_path = root.with_name(root.name + ".provision.log")
    log_path.write_text("")

    debootstrap = _ensure_debootstrap(log, log_path)
    if partial.exists():
        log(f"removing stale {partial}")
        shutil.rmtree(partial)
    mirror = mirror or os.environ.get("RINGLINE_DEBIAN_MIRROR") or None
    log(f"debootstrap {DEBIAN_SUITE} (minbase) into {partial}")
    _run(
        [debootstrap, "--variant=minbase", "--include=ca-certificates", DEBIAN_SUITE, str(partial)]
        + ([mirror] if mirror else []),
        what="debootstrap",
        log_path=log_path,
        extra_log=partial / "debootstrap" / "debootstrap.log",
    )
    log("apt-get update inside the root")
    _run(["chroot", str(partial), "apt-get", *_APT_OPTS, "update"], what="apt-get update", log_path=log_path)
    log(f"apt-get install {' '.join(PACKAGES)}")
    _run(
        [
            "chroot",
            str(partial),
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            *_APT_OPTS,
            "install",
            "-y",
            "--no-install-recommends",
            *PACKAGES,
        ],
        what="apt-get install",
        log_path=log_path,
    )
    _run(["chroot", str(partial), "apt-get", "clean"], what="apt-get clean", log_path=log_path)
    version = _run(["chroot", str(partial), "asterisk", "-V"], what="asterisk -V", log_path=log_path)
    log(f"installed {version.strip()}")
    os.rename(partial, root)
    marker_path(root).write_text(" ".join(PACKAGES) + "\n")
    log(f"Asterisk root ready at {root}")


def _ensure_debootstrap(log: Callable[[str], None], log_path: Path) -> str:
    """Host path of debootstrap, installing the Debian package first if it is missing."""
    found = shutil.which("debootstrap")
    if found:
        return found
    if shutil.which("apt-get") is None:
        raise ProvisionError("debootstrap is not installed and there is no apt-get to install it")
    log("installing debootstrap on the host (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update"], what="apt-get update (host)", log_path=log_path, env=env)
    _run(
        ["apt-get", "install", "-y", "--no-install-recommends", "debootstrap"],
        what="apt-get install debootstrap (host)",
        log_path=log_path,
        env=env,
    )
    found = shutil.which("debootstrap")
    if found is None:
        raise ProvisionError("apt-get installed debootstrap but it is not on PATH" + _tail(log_path))
    return found


def _run(
    argv: Sequence[str],
    *,
    what: str,
    log_path: Path,
    extra_log: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``argv`` to completion, appending its output to ``log_path``; return its stdout+stderr.

    Raises:
        ProvisionError: the tool is missing or exits non-zero (message carries the log tail).
    """
    with log_path.open("a") as fh:
        fh.write(f"$ {' '.join(argv)}\n")
    try:
        done = subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, check=False
        )
    except OSError as exc:
        raise ProvisionError(f"{what}: cannot run {argv[0]}: {exc}") from exc
    output = done.stdout + done.stderr
    with log_path.open("a") as fh:
        fh.write(output)
    if done.returncode != 0:
        detail = _tail(log_path)
        if extra_log is not None and extra_log.exists():
            detail += _tail(extra_log)
        raise ProvisionError(f"{what} failed (exit {done.returncode}){detail}")
    return output


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """``"\\n--- tail of <path> ---\\n..."`` with the last ``lines`` lines of a log file."""
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"\n--- tail of {path} ---\n" + "\n".join(text)
