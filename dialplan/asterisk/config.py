"""What one Asterisk instance running from the shared debootstrap root looks like.

An instance is a name plus ports, credentials and tenants. Several instances run from one root at once
(``main``, ``test``, a test's SIP peer) because each has its own config dir and its own variable dirs::

    <root>/etc/ringline/<name>/           astetcdir: asterisk.conf, pjsip.conf, ... (rendered)
    <root>/var/lib/ringline/<name>/run    astrundir: asterisk.ctl (CLI socket), asterisk.pid
    <root>/var/lib/ringline/<name>/spool  astspooldir: voicemail, recordings, outgoing
    <root>/var/lib/ringline/<name>/log    astlogdir: messages.log, console.log (our drain of stdout)
    <root>/var/lib/ringline/<name>/db     astdbdir: astdb.sqlite3
    <root>/var/lib/ringline/<name>/cache  astcachedir

``astdatadir`` (sounds, /usr/share/asterisk), ``astmoddir`` and ``astvarlibdir`` stay at the package defaults.
Paths typed :class:`~pathlib.PurePosixPath` are as seen *inside* the chroot; :class:`~pathlib.Path` values
are host paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from dialplan.asterisk.errors import InstanceConfigError

__all__ = ["AsteriskInstance", "InstanceLayout", "VoicemailBox"]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_MAILBOX_RE = re.compile(r"^[0-9A-Za-z_+-]{1,64}$")
_SAFE_VALUE_RE = re.compile(r"^[^\n\r;,\[\]]*$")

ETC_BASE = PurePosixPath("/etc/ringline")
VAR_BASE = PurePosixPath("/var/lib/ringline")


@dataclass(frozen=True)
class InstanceLayout:
    """Directory layout of instance ``name`` inside ``root`` (see the module docstring)."""

    name: str
    root: Path

    @property
    def config_dir(self) -> PurePosixPath:
        """astetcdir, inside the chroot: ``/etc/ringline/<name>``."""
        return ETC_BASE / self.name

    @property
    def asterisk_conf(self) -> PurePosixPath:
        """The file passed to ``asterisk -C``, inside the chroot."""
        return self.config_dir / "asterisk.conf"

    @property
    def var_dir(self) -> PurePosixPath:
        """Parent of the instance's writable dirs, inside the chroot: ``/var/lib/ringline/<name>``."""
        return VAR_BASE / self.name

    @property
    def run_dir(self) -> PurePosixPath:
        return self.var_dir / "run"

    @property
    def spool_dir(self) -> PurePosixPath:
        return self.var_dir / "spool"

    @property
    def log_dir(self) -> PurePosixPath:
        return self.var_dir / "log"

    @property
    def db_dir(self) -> PurePosixPath:
        return self.var_dir / "db"

    @property
    def cache_dir(self) -> PurePosixPath:
        return self.var_dir / "cache"

    def writable_dirs(self) -> tuple[PurePosixPath, ...]:
        """Dirs that must exist and belong to the ``asterisk`` user before start."""
        return (self.var_dir, self.run_dir, self.spool_dir, self.log_dir, self.db_dir, self.cache_dir)

    def host(self, path: PurePosixPath) -> Path:
        """Host path of an absolute path inside the chroot."""
        return self.root / path.relative_to("/")

    @property
    def host_config_dir(self) -> Path:
        return self.host(self.config_dir)

    @property
    def pidfile(self) -> Path:
        """Host path of the pid file Asterisk writes into astrundir."""
        return self.host(self.run_dir / "asterisk.pid")

    @property
    def control_socket(self) -> Path:
        """Host path of the CLI control socket (``asterisk.ctl``) that ``asterisk -r`` connects to."""
        return self.host(self.run_dir / "asterisk.ctl")

    @property
    def messages_log(self) -> Path:
        """Host path of Asterisk's own log file (logger.conf ``messages.log``)."""
        return self.host(self.log_dir / "messages.log")

    @property
    def console_log(self) -> Path:
        """Host path of the drained stdout/stderr of a supervised (``-f``) process."""
        return self.host(self.log_dir / "console.log")


@dataclass(frozen=True)
class VoicemailBox:
    """A voicemail.conf mailbox of context ``default``: ``<mailbox> => <password>,<full_name>,<email>``."""

    mailbox: str
    password: str
    full_name: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        if not _MAILBOX_RE.match(self.mailbox):
            raise InstanceConfigError(f"invalid mailbox {self.mailbox!r}")
        for field_name in ("password", "full_name", "email"):
            value = getattr(self, field_name)
            if not _SAFE_VALUE_RE.match(value):
                raise InstanceConfigError(
                    f"mailbox {self.mailbox}: {field_name} contains , ; [ ] or a newline"
                )


@dataclass(frozen=True, kw_only=True)
class AsteriskInstance:
    """One Asterisk process's configuration; rendered by :func:`dialplan.asterisk.render.render_instance`.

    Attributes:
        name: instance name, ``[a-z0-9][a-z0-9_-]*`` (e.g. ``"main"``, ``"test"``); names the dirs.
        root: host path of the debootstrap root.
        sip_port: UDP and TCP port of the PJSIP transports on 127.0.0.1.
        http_port: TCP port of the HTTP server (ARI) on 127.0.0.1.
        rtp_start, rtp_end: inclusive RTP port range (rtp.conf).
        ari_user, ari_password: the single ARI user (ari.conf).
        stasis_app: ARI application the tenant contexts hand calls to.
        db_host, db_port, db_name, db_user, db_password: PostgreSQL holding the ARA ``ps_*`` tables.
        tenants: tenant slugs; each gets a dialplan context ``ringline-<slug>``.
        mailboxes: voicemail boxes rendered into context ``default``.
        extra_modules: module file names (``app_amd.so``) loaded in addition to the base list.
        agi_port: TCP port of Ringline's FastAGI server on 127.0.0.1; when set, each tenant also gets a
            context ``ringline-agi-<slug>`` that routes through ``AGI(agi://127.0.0.1:<agi_port>/route)``
            and ``Dial()`` instead of Stasis. ``None``: no AGI contexts.
    """

    name: str
    root: Path
    sip_port: int = 5060
    http_port: int = 8088
    rtp_start: int = 10000
    rtp_end: int = 10999
    ari_user: str
    ari_password: str
    stasis_app: str = "ringline"
    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_name: str = "ringline"
    db_user: str = "postgres"
    db_password: str = ""
    tenants: tuple[str, ...] = ()
    mailboxes: tuple[VoicemailBox, ...] = ()
    extra_modules: tuple[str, ...] = ()
    agi_port: int | None = None

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise InstanceConfigError(f"invalid instance name {self.name!r} (want [a-z0-9][a-z0-9_-]*)")
        for label, port in (
            ("sip_port", self.sip_port),
            ("http_port", self.http_port),
            ("rtp_start", self.rtp_start),
            ("rtp_end", self.rtp_end),
        ):
            if not 1 <= port <= 65535:
                raise InstanceConfigError(f"{label} {port} is not a port number")
        if self.sip_port == self.http_port:
            raise InstanceConfigError(f"sip_port and http_port are both {self.sip_port}")
        if self.agi_port is not None:
            if not 1 <= self.agi_port <= 65535:
                raise InstanceConfigError(f"agi_port {self.agi_port} is not a port number")
            if self.agi_port in (self.sip_port, self.http_port):
                raise InstanceConfigError(f"agi_port {self.agi_port} is also the SIP or HTTP port")
        if self.rtp_start >= self.rtp_end:
            raise InstanceConfigError(f"empty RTP range {self.rtp_start}-{self.rtp_end}")
        for slug in self.tenants:
            if not _SLUG_RE.match(slug):
                raise InstanceConfigError(f"invalid tenant slug {slug!r} (want [a-z0-9][a-z0-9_-]*)")
        if len(set(self.tenants)) != len(self.tenants):
            raise InstanceConfigError(f"duplicate tenant slugs in {self.tenants}")
        if not re.match(r"^[A-Za-z0-9_.-]+$", self.stasis_app):
            raise InstanceConfigError(f"invalid stasis_app {self.stasis_app!r}")
        if not re.match(r"^[A-Za-z0-9_.-]+$", self.ari_user):
            raise InstanceConfigError(f"invalid ari_user {self.ari_user!r}")
        for label, value in (
            ("ari_password", self.ari_password),
            ("db_password", self.db_password),
            ("db_host", self.db_host),
            ("db_name", self.db_name),
            ("db_user", self.db_user),
        ):
            if not _SAFE_VALUE_RE.match(value):
                raise InstanceConfigError(f"{label} contains ; , [ ] or a newline")
        for module in self.extra_modules:
            if not re.match(r"^[a-z0-9_]+\.so$", module):
                raise InstanceConfigError(f"invalid module name {module!r} (want e.g. app_amd.so)")

    @property
    def layout(self) -> InstanceLayout:
        """Where this instance's files live (config dir, run/log/spool dirs)."""
        return InstanceLayout(self.name, self.root)

    @property
    def ari_url(self) -> str:
        """Base URL of ARI, e.g. ``http://127.0.0.1:8088/ari``."""
        return f"http://127.0.0.1:{self.http_port}/ari"

    @property
    def db_dsn(self) -> str:
        """libpq URI of the ARA database (for Python clients; Asterisk reads res_pgsql.conf)."""
        auth = quote(self.db_user, safe="") + (
            f":{quote(self.db_password, safe='')}" if self.db_password else ""
        )
        return f"postgresql://{auth}@{self.db_host}:{self.db_port}/{self.db_name}"
