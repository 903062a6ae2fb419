"""Rendering against a fake root (no Asterisk needed): contents, validation, idempotence, ownership."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from dialplan.asterisk.config import AsteriskInstance, VoicemailBox
from dialplan.asterisk.errors import InstanceConfigError
from dialplan.asterisk.modules import MAIN_MODULES, MAIN_PRELOAD, MODULE_DIR
from dialplan.asterisk.render import ARA_TABLES, MAIN_CONFIG_FILES, render_instance, render_main_files


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A directory shaped like the provisioned root: asterisk user/group, module files, no MOH."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    uid, gid = os.getuid(), os.getgid()
    (root / "etc" / "passwd").write_text(f"root:x:0:0::/root:/bin/sh\nasterisk:x:{uid}:{gid}::/:/bin/false\n")
    (root / "etc" / "group").write_text(f"root:x:0:\nasterisk:x:{gid}:\n")
    modules = root / MODULE_DIR
    modules.mkdir(parents=True)
    for name in (*MAIN_PRELOAD, *MAIN_MODULES, "app_amd.so"):
        (modules / name).touch()
    return root


def given_instance(root: Path, **overrides: object) -> AsteriskInstance:
    fields: dict[str, object] = {
        "name": "unit",
        "root": root,
        "sip_port": 15060,
        "http_port": 18088,
        "ari_user": "ringline",
        "ari_password": "s3cret",
        "db_name": "ringline_unit",
        "tenants": ("acme", "globex"),
    }
    fields.update(overrides)
    return AsteriskInstance(**fields)  # type: ignore[arg-type]


def sections(text: str) -> dict[str, dict[str, str]]:
    """``[name]`` -> ``{key: value}`` of an Asterisk .conf (later duplicate sections are suffixed #n)."""
    result: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            name = line[1 : line.index("]")]
            key, n = name, 1
            while key in result:
                n += 1
                key = f"{name}#{n}"
            current = result[key] = {}
        elif current is not None and "=" in line:
            k, v = line.split("=", 1)
            current[k.strip().rstrip(">").strip()] = v.strip().lstrip(">").strip()
    return result


def test_pjsip_conf_has_only_transports_and_globals(fake_root: Path) -> None:
    files = render_main_files(given_instance(fake_root))
    pjsip = sections(files["pjsip.conf"])
    assert {s["type"] for s in pjsip.values()} == {"global", "system", "transport"}
    transports = {name: s for name, s in pjsip.items() if s["type"] == "transport"}
    assert set(transports) == {"transport-udp", "transport-tcp"}
    assert {s["bind"] for s in transports.values()} == {"127.0.0.1:15060"}
    assert not re.search(r"type\s*=\s*(endpoint|aor|auth|identify|registration)", files["pjsip.conf"])


def test_realtime_maps_every_ara_table_to_pgsql(fake_root: Path) -> None:
    files = render_main_files(given_instance(fake_root))
    ext = sections(files["extconfig.conf"])["settings"]
    assert ext == {table: f"pgsql,general,{table}" for table in ARA_TABLES}
    sorcery = sections(files["sorcery.conf"])
    assert sorcery["res_pjsip"] == {
        "endpoint": "realtime,ps_endpoints",
        "auth": "realtime,ps_auths",
        "aor": "realtime,ps_aors",
        "contact": "realtime,ps_contacts",
        "domain_alias": "realtime,ps_domain_aliases",
    }
    assert sorcery["res_pjsip_endpoint_identifier_ip"] == {"identify": "realtime,ps_endpoint_id_ips"}
    assert sorcery["res_pjsip_outbound_registration"] == {"registration": "realtime,ps_registrations"}
    pgsql = sections(files["res_pgsql.conf"])["general"]
    assert (pgsql["dbhost"], pgsql["dbport"], pgsql["dbname"]) == ("127.0.0.1", "5432", "ringline_unit")


def test_modules_conf_preloads_pgsql_and_loads_only_the_list(fake_root: Path) -> None:
    text = render_main_files(given_instance(fake_root, extra_modules=("app_amd.so",)))["modules.conf"]
    assert "autoload = no" in text
    assert re.findall(r"^preload => (\S+)$", text, re.M) == ["res_config_pgsql.so"]
    loaded = re.findall(r"^load => (\S+)$", text, re.M)
    assert loaded == [*MAIN_MODULES, "app_amd.so"]


def test_missing_module_is_a_config_error(fake_root: Path) -> None:
    (fake_root / MODULE_DIR / "app_stasis.so").unlink()
    with pytest.raises(InstanceConfigError, match=r"app_stasis\.so"):
        render_main_files(given_instance(fake_root))


def test_each_tenant_gets_a_stasis_context(fake_root: Path) -> None:
    text = render_main_files(given_instance(fake_root, stasis_app="rl"))["extensions.conf"]
    for slug in ("acme", "globex"):
        block = text.split(f"[ringline-{slug}]\n", 1)[1].split("\n\n", 1)[0]
        assert block.splitlines() == [
            f"exten => _[+0-9*#a-zA-Z].,1,Stasis(rl,{slug})",
            " same => n,Hangup()",
        ]
    assert "[ringline-default]\nexten => _[+0-9*#a-zA-Z].,1,Hangup(21)" in text
    assert "exten => _X.,1,VoiceMail(${EXTEN}@default,u)" in text


def test_mailboxes_are_rendered_in_context_default(fake_root: Path) -> None:
    inst = given_instance(fake_root, mailboxes=(VoicemailBox("1002", "4321", "Ext 1002"),))
    voicemail = sections(render_main_files(inst)["voicemail.conf"])
    assert voicemail["default"] == {"1002": "4321,Ext 1002,"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenants", ("Acme",)),
        ("tenants", ("a b",)),
        ("tenants", ("acme", "acme")),
        ("name", "../etc"),
        ("ari_password", "x\n[evil]"),
        ("rtp_start", 20000),
        ("http_port", 15060),
    ],
)
def test_invalid_fields_are_rejected(fake_root: Path, field: str, value: object) -> None:
    with pytest.raises(InstanceConfigError):
        given_instance(fake_root, **{field: value})


def test_render_instance_is_idempotent_and_removes_stale_files(fake_root: Path) -> None:
    inst = given_instance(fake_root)
    config_dir = render_instance(inst)
    assert config_dir == fake_root / "etc/ringline/unit"
    assert sorted(p.name for p in config_dir.iterdir()) == sorted(MAIN_CONFIG_FILES)
    mtimes = {p.name: p.stat().st_mtime_ns for p in config_dir.iterdir()}
    (config_dir / "stale.conf").write_text("[x]\n")
    render_instance(inst)
    assert {p.name: p.stat().st_mtime_ns for p in config_dir.iterdir()} == mtimes
    for path in inst.layout.writable_dirs():
        assert inst.layout.host(path).is_dir()
    assert stat.S_IMODE((config_dir / "ari.conf").stat().st_mode) == 0o640
    assert stat.S_IMODE((config_dir / "res_pgsql.conf").stat().st_mode) == 0o640
    assert stat.S_IMODE((config_dir / "pjsip.conf").stat().st_mode) == 0o644


def test_moh_class_only_when_files_exist(fake_root: Path) -> None:
    assert "[default]" not in render_main_files(given_instance(fake_root))["musiconhold.conf"]
    moh = fake_root / "usr/share/asterisk/moh"
    moh.mkdir(parents=True)
    (moh / "track.wav").touch()
    text = render_main_files(given_instance(fake_root))["musiconhold.conf"]
    assert sections(text)["default"]["directory"] == "/usr/share/asterisk/moh"


def test_asterisk_conf_points_dirs_at_the_instance(fake_root: Path) -> None:
    dirs = sections(render_main_files(given_instance(fake_root))["asterisk.conf"])["directories"]
    assert dirs["astetcdir"] == "/etc/ringline/unit"
    for key, sub in (
        ("astrundir", "run"),
        ("astspooldir", "spool"),
        ("astlogdir", "log"),
        ("astdbdir", "db"),
    ):
        assert dirs[key] == f"/var/lib/ringline/unit/{sub}"
    assert dirs["astdatadir"] == "/usr/share/asterisk"
