"""Render an :class:`AsteriskInstance` into its config dir inside the root, and create its writable dirs.

Templates live in ``dialplan/asterisk/templates/<file>.j2`` (jinja2, ``StrictUndefined``: a missing
variable is an error, never an empty string). Rendering is idempotent: a file is rewritten only when its
content changed, and ``*.conf`` files in the config dir that are no longer rendered are removed (the dir
belongs to Ringline alone).

Ownership inside the root: config files ``root:root 0644``, files holding passwords (``ari.conf``,
``res_pgsql.conf``) ``root:asterisk 0640``; writable dirs ``asterisk:asterisk 0750``. The ``asterisk``
uid/gid are read from the root's own ``/etc/passwd`` and ``/etc/group`` (they differ from the host's).

The helpers :func:`template_environment`, :func:`prepare_layout` and :func:`write_config_files` are also
used to render other Asterisk roles (the tests' SIP peer) with their own templates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import jinja2

from dialplan.asterisk.config import AsteriskInstance, InstanceLayout
from dialplan.asterisk.errors import InstanceConfigError
from dialplan.asterisk.modules import MAIN_MODULES, MAIN_PRELOAD, check_modules_present

__all__ = [
    "ARA_TABLES",
    "MAIN_CONFIG_FILES",
    "asterisk_ids",
    "find_moh_dir",
    "prepare_layout",
    "render_instance",
    "render_main_files",
    "template_environment",
    "write_config_files",
]

TEMPLATE_DIR = Path(__file__).with_name("templates")

ARA_TABLES: tuple[str, ...] = (
    "ps_endpoints",
    "ps_auths",
    "ps_aors",
    "ps_contacts",
    "ps_endpoint_id_ips",
    "ps_domain_aliases",
    "ps_registrations",
)
"""Realtime families mapped to PostgreSQL in extconfig.conf (ARA table names, verbatim)."""

MAIN_CONFIG_FILES: tuple[str, ...] = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "http.conf",
    "ari.conf",
    "pjsip.conf",
    "res_pgsql.conf",
    "extconfig.conf",
    "sorcery.conf",
    "rtp.conf",
    "extensions.conf",
    "voicemail.conf",
    "musiconhold.conf",
    "cdr.conf",
    "indications.conf",
    # Read by the core or by loaded modules; rendered so that none logs "Unable to load config file".
    "acl.conf",
    "ccss.conf",
    "cel.conf",
    "features.conf",
    "manager.conf",
    "pjproject.conf",
    "stasis.conf",
    "udptl.conf",
    "websocket_client.conf",
)

SECRET_FILES = frozenset({"ari.conf", "res_pgsql.conf"})
"""Files holding passwords: readable by the asterisk group only."""

_MOH_SUFFIXES = frozenset({".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".sln16", ".g722", ".ogg"})


def template_environment(*template_dirs: Path) -> jinja2.Environment:
    """A jinja2 environment over ``template_dirs`` (default: ours) that fails on undefined variables."""
    dirs = [str(d) for d in (template_dirs or (TEMPLATE_DIR,))]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def asterisk_ids(root: Path) -> tuple[int, int]:
    """``(uid, gid)`` of user and group ``asterisk`` in the root's ``/etc/passwd`` and ``/etc/group``.

    Raises:
        InstanceConfigError: the root has no asterisk user or group (package not installed).
    """
    uid = _lookup_id(root / "etc" / "passwd", "asterisk", 2)
    gid = _lookup_id(root / "etc" / "group", "asterisk", 2)
    if uid is None or gid is None:
        raise InstanceConfigError(
            f"no asterisk user/group in {root}/etc/passwd, group; is the root provisioned?"
        )
    return uid, gid


def _lookup_id(db: Path, name: str, column: int) -> int | None:
    try:
        lines = db.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) > column and fields[0] == name:
            return int(fields[column])
    return None


def find_moh_dir(root: Path) -> PurePosixPath | None:
    """Chroot path of a dir holding music-on-hold files, or ``None`` if the root has none."""
    for candidate in (PurePosixPath("/usr/share/asterisk/moh"), PurePosixPath("/var/lib/asterisk/moh")):
        host_dir = root / candidate.relative_to("/")
        if host_dir.is_dir() and any(p.suffix in _MOH_SUFFIXES for p in host_dir.iterdir()):
            return candidate
    return None


def prepare_layout(layout: InstanceLayout) -> None:
    """Create the config dir (root-owned) and the writable dirs (asterisk-owned) inside the root."""
    uid, gid = asterisk_ids(layout.root)
    layout.host_config_dir.mkdir(parents=True, exist_ok=True)
    for path in layout.writable_dirs():
        host_path = layout.host(path)
        host_path.mkdir(parents=True, exist_ok=True)
        os.chown(host_path, uid, gid)
        host_path.chmod(0o750)


def write_config_files(
    layout: InstanceLayout, files: Mapping[str, str], *, secret: frozenset[str] = SECRET_FILES
) -> None:
    """Write ``files`` (name -> content) into the config dir; remove other ``*.conf`` files there.

    Files are replaced atomically (write to ``.tmp``, rename) and only when their content changed.
    """
    _, gid = asterisk_ids(layout.root)
    config_dir = layout.host_config_dir
    config_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = config_dir / name
        mode, group = (0o640, gid) if name in secret else (0o644, 0)
        if not (target.exists() and target.read_text() == content):
            tmp = target.with_name(name + ".tmp")
            tmp.write_text(content)
            os.replace(tmp, target)
        os.chown(target, 0, group)
        target.chmod(mode)
    for stale in config_dir.glob("*.conf"):
        if stale.name not in files:
            stale.unlink()


def render_main_files(inst: AsteriskInstance) -> dict[str, str]:
    """The content of every config file of a main (ARA-backed) instance, keyed by file name.

    Raises:
        InstanceConfigError: a module Ringline loads is missing from the root.
    """
    modules = (*MAIN_MODULES, *(m for m in inst.extra_modules if m not in MAIN_MODULES))
    check_modules_present(inst.root, (*MAIN_PRELOAD, *modules))
    env = template_environment()
    context = {
        "inst": inst,
        "layout": inst.layout,
        "preload": MAIN_PRELOAD,
        "modules": modules,
        "ara_tables": ARA_TABLES,
        "moh_dir": find_moh_dir(inst.root),
    }
    return {name: env.get_template(f"{name}.j2").render(context) for name in MAIN_CONFIG_FILES}


def render_instance(inst: AsteriskInstance) -> Path:
    """Render ``inst`` into its config dir and create its writable dirs; idempotent.

    Returns:
        Host path of the config dir, ``<root>/etc/ringline/<name>`` (``/etc/ringline/<name>`` in the chroot).

    Raises:
        InstanceConfigError: the root lacks the asterisk user or a module Ringline loads.
    """
    files = render_main_files(inst)
    prepare_layout(inst.layout)
    write_config_files(inst.layout, files)
    return inst.layout.host_config_dir
