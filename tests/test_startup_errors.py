"""Bad configuration or an unreachable database ends the command with a clear message, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RINGLINE_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**base, "RINGLINE_DATA_DIR": str(tmp_path / "data"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RINGLINE_HTTP_PORT": "eighty"}, "http_port"),
        ({"RINGLINE_SIP_PORT": "70000"}, "sip_port"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "database_url"),
        ({"RINGLINE_ARI_URL": "127.0.0.1:8088"}, "ari_url"),
    ],
)
def test_malformed_setting_is_named(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    result = run(["-m", "ringline", "run"], env, tmp_path)
    assert result.returncode == 2
    assert "invalid configuration" in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_config_file_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "ringline.toml"
    config.write_text("http_port = [unclosed\n")
    result = run(["-m", "ringline", "--config", str(config), "run"], {}, tmp_path)
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr and str(config) in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_config_key_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "ringline.toml"
    config.write_text('databse_url = "postgresql://x@127.0.0.1/db"\n')
    result = run(["-m", "ringline", "--config", str(config), "run"], {}, tmp_path)
    assert result.returncode == 2
    assert "databse_url" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_reported(tmp_path: Path) -> None:
    # port 9 (discard) on loopback: nothing listens there
    result = run(["-m", "ringline", "run"], {"DATABASE_URL": "postgresql://postgres@127.0.0.1:9/ringline"}, tmp_path)
    assert result.returncode == 2
    assert "127.0.0.1:9" in result.stderr and "unavailable" in result.stderr
    assert "Traceback" not in result.stderr


def test_engine_alone_reports_missing_settings_and_unreachable_database(tmp_path: Path) -> None:
    result = run(["-m", "engine"], {}, tmp_path)
    assert result.returncode != 0 and "RINGLINE_ARI_URL" in result.stderr
    assert "Traceback" not in result.stderr
    result = run(
        ["-m", "engine"],
        {
            "RINGLINE_ARI_URL": "http://127.0.0.1:9",
            "RINGLINE_ARI_USER": "u",
            "RINGLINE_ARI_PASSWORD": "p",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/ringline",
        },
        tmp_path,
    )
    assert result.returncode == 2 and "127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
