"""Ringline settings: environment variables, optionally a TOML file, embedded defaults for the rest.

Precedence: environment variable > config file (``--config`` or ``RINGLINE_CONFIG``) > default.

| setting | env var | default |
|---|---|---|
| database_url | ``DATABASE_URL`` | embedded PostgreSQL under ``data_dir/pgdata`` on 127.0.0.1:``embedded_pg_port`` |
| ari_url, ari_user, ari_password | ``RINGLINE_ARI_URL``, ``_USER``, ``_PASSWORD`` | a local Asterisk |
| sip_port, ari_port (local Asterisk) | ``RINGLINE_SIP_PORT``, ``RINGLINE_ARI_PORT`` | 5060, 8088 |
| agi_port (FastAGI on 127.0.0.1) | ``RINGLINE_AGI_PORT`` | 4573 |
| http_host, http_port (web) | ``RINGLINE_HTTP_HOST``, ``RINGLINE_HTTP_PORT`` | 127.0.0.1, 8080 |
| data_dir | ``RINGLINE_DATA_DIR`` | ``/var/lib/ringline`` as root, else ``~/.local/share/ringline`` |
| instance_id | ``RINGLINE_INSTANCE_ID`` | ``default`` |
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class SettingsError(Exception):
    """The configuration is malformed; the message says which setting and why (one line per problem)."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = None
    embedded_pg_port: int = Field(5433, ge=1, le=65535)
    ari_url: str | None = None
    ari_user: str | None = None
    ari_password: str | None = None
    sip_port: int = Field(5060, ge=1, le=65535)
    ari_port: int = Field(8088, ge=1, le=65535)
    rtp_start: int = Field(10000, ge=1024, le=65535)
    rtp_end: int = Field(10999, ge=1024, le=65535)
    agi_port: int = Field(4573, ge=1, le=65535)
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    data_dir: Path = Field(default_factory=lambda: default_data_dir())
    instance_id: str = "default"
    app: str = "ringline"

    @field_validator("database_url")
    @classmethod
    def _check_dsn(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a libpq URL such as postgresql://user:pass@host:5432/db")
        return v

    @field_validator("ari_url")
    @classmethod
    def _check_ari(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("must be the HTTP base of Asterisk's ARI, e.g. http://127.0.0.1:8088")
        return v.rstrip("/") if v else v

    @property
    def external_asterisk(self) -> bool:
        """True when ARI points at an Asterisk Ringline does not start itself."""
        return self.ari_url is not None


def default_data_dir() -> Path:
    """Where the embedded database and generated credentials live when ``RINGLINE_DATA_DIR`` is unset.

    As root the embedded PostgreSQL runs as an unprivileged system user (PostgreSQL refuses to run as root), and
    that user cannot enter ``/root``, so root's default is ``/var/lib/ringline``.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/ringline")
    return Path.home() / ".local" / "share" / "ringline"


_ENV = {
    "database_url": "DATABASE_URL",
    "embedded_pg_port": "RINGLINE_EMBEDDED_PG_PORT",
    "ari_url": "RINGLINE_ARI_URL",
    "ari_user": "RINGLINE_ARI_USER",
    "ari_password": "RINGLINE_ARI_PASSWORD",
    "sip_port": "RINGLINE_SIP_PORT",
    "ari_port": "RINGLINE_ARI_PORT",
    "agi_port": "RINGLINE_AGI_PORT",
    "http_host": "RINGLINE_HTTP_HOST",
    "http_port": "RINGLINE_HTTP_PORT",
    "data_dir": "RINGLINE_DATA_DIR",
    "instance_id": "RINGLINE_INSTANCE_ID",
}


def load_settings(config_file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from ``config_file`` (TOML, keys as in :class:`Settings`) and the environment.

    Raises:
        SettingsError: unreadable/invalid TOML, unknown keys, or values of the wrong type/range.
    """
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = config_file or (Path(env["RINGLINE_CONFIG"]) if env.get("RINGLINE_CONFIG") else None)
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text()))
        except OSError as exc:
            raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    for key, var in _ENV.items():
        if env.get(var):
            values[key] = env[var]
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '?'}: {err['msg']}" for err in exc.errors()
        ]
        source = f" (from {path} and the environment)" if path else " (from the environment)"
        raise SettingsError("invalid configuration" + source + ":\n  " + "\n  ".join(problems)) from None
