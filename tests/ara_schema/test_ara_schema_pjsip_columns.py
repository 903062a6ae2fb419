"""The ps_* tables equal Asterisk 22.10's, column for column, and our SQLAlchemy tables equal the migrations.

``ASTERISK_PS_COLUMNS`` / ``ASTERISK_ENUMS`` are frozen from Asterisk's own schema: all 130 revisions of
asterisk/asterisk tag 22.10.1 ``contrib/ast-db-manage/config`` (base -> head e89e30cee53f) replayed on
PostgreSQL, then read back with ``format_type``. Only the enums our seven tables use are listed.
Regenerate only from Asterisk's migrations, never from our code.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ara_schema.migrations import VERSION_TABLE
from ara_schema.tables import metadata, pjsip

ASTERISK_PS_COLUMNS: dict[str, tuple[str, ...]] = {
    "ps_endpoints": (
        "id varchar(255) NOT NULL",
        "transport varchar(40)",
        "aors varchar(2048)",
        "auth varchar(255)",
        "context varchar(40)",
        "disallow varchar(200)",
        "allow varchar(200)",
        "direct_media ast_bool_values",
        "connected_line_method pjsip_connected_line_method_values",
        "direct_media_method pjsip_connected_line_method_values",
        "direct_media_glare_mitigation pjsip_direct_media_glare_mitigation_values",
        "disable_direct_media_on_nat ast_bool_values",
        "dtmf_mode pjsip_dtmf_mode_values_v3",
        "external_media_address varchar(40)",
        "force_rport ast_bool_values",
        "ice_support ast_bool_values",
        "identify_by varchar(80)",
        "mailboxes varchar(40)",
        "moh_suggest varchar(40)",
        "outbound_auth varchar(255)",
        "outbound_proxy varchar(255)",
        "rewrite_contact ast_bool_values",
        "rtp_ipv6 ast_bool_values",
        "rtp_symmetric ast_bool_values",
        "send_diversion ast_bool_values",
        "send_pai ast_bool_values",
        "send_rpid ast_bool_values",
        "timers_min_se integer",
        "timers pjsip_timer_values",
        "timers_sess_expires integer",
        "callerid varchar(40)",
        "callerid_privacy pjsip_cid_privacy_values",
        "callerid_tag varchar(40)",
        "100rel pjsip_100rel_values_v2",
        "aggregate_mwi ast_bool_values",
        "trust_id_inbound ast_bool_values",
        "trust_id_outbound ast_bool_values",
        "use_ptime ast_bool_values",
        "use_avpf ast_bool_values",
        "media_encryption pjsip_media_encryption_values",
        "inband_progress ast_bool_values",
        "call_group varchar(40)",
        "pickup_group varchar(40)",
        "named_call_group varchar(40)",
        "named_pickup_group varchar(40)",
        "device_state_busy_at integer",
        "fax_detect ast_bool_values",
        "t38_udptl ast_bool_values",
        "t38_udptl_ec pjsip_t38udptl_ec_values",
        "t38_udptl_maxdatagram integer",
        "t38_udptl_nat ast_bool_values",
        "t38_udptl_ipv6 ast_bool_values",
        "tone_zone varchar(40)",
        "language varchar(40)",
        "one_touch_recording ast_bool_values",
        "record_on_feature varchar(40)",
        "record_off_feature varchar(40)",
        "rtp_engine varchar(40)",
        "allow_transfer ast_bool_values",
        "allow_subscribe ast_bool_values",
        "sdp_owner varchar(40)",
        "sdp_session varchar(40)",
        "tos_audio varchar(10)",
        "tos_video varchar(10)",
        "sub_min_expiry integer",
        "from_domain varchar(40)",
        "from_user varchar(40)",
        "mwi_from_user varchar(40)",
        "dtls_verify varchar(40)",
        "dtls_rekey varchar(40)",
        "dtls_cert_file varchar(200)",
        "dtls_private_key varchar(200)",
        "dtls_cipher varchar(200)",
        "dtls_ca_file varchar(200)",
        "dtls_ca_path varchar(200)",
        "dtls_setup pjsip_dtls_setup_values",
        "srtp_tag_32 ast_bool_values",
        "media_address varchar(40)",
        "redirect_method pjsip_redirect_method_values",
        "set_var text",
        "cos_audio integer",
        "cos_video integer",
        "message_context varchar(40)",
        "force_avp ast_bool_values",
        "media_use_received_transport ast_bool_values",
        "accountcode varchar(80)",
        "user_eq_phone ast_bool_values",
        "moh_passthrough ast_bool_values",
        "media_encryption_optimistic ast_bool_values",
        "rpid_immediate ast_bool_values",
        "g726_non_standard ast_bool_values",
        "rtp_keepalive integer",
        "rtp_timeout integer",
        "rtp_timeout_hold integer",
        "bind_rtp_to_media_address ast_bool_values",
        "voicemail_extension varchar(40)",
        "mwi_subscribe_replaces_unsolicited ast_bool_values",
        "deny varchar(95)",
        "permit varchar(95)",
        "acl varchar(40)",
        "contact_deny varchar(95)",
        "contact_permit varchar(95)",
        "contact_acl varchar(40)",
        "subscribe_context varchar(40)",
        "fax_detect_timeout integer",
        "contact_user varchar(80)",
        "preferred_codec_only ast_bool_values",
        "asymmetric_rtp_codec ast_bool_values",
        "rtcp_mux ast_bool_values",
        "allow_overlap ast_bool_values",
        "refer_blind_progress ast_bool_values",
        "notify_early_inuse_ringing ast_bool_values",
        "max_audio_streams integer",
        "max_video_streams integer",
        "webrtc ast_bool_values",
        "dtls_fingerprint sha_hash_values",
        "incoming_mwi_mailbox varchar(40)",
        "bundle ast_bool_values",
        "dtls_auto_generate_cert ast_bool_values",
        "follow_early_media_fork ast_bool_values",
        "accept_multiple_sdp_answers ast_bool_values",
        "suppress_q850_reason_headers ast_bool_values",
        "trust_connected_line ast_bool_values",
        "send_connected_line ast_bool_values",
        "ignore_183_without_sdp ast_bool_values",
        "codec_prefs_incoming_offer varchar(128)",
        "codec_prefs_outgoing_offer varchar(128)",
        "codec_prefs_incoming_answer varchar(128)",
        "codec_prefs_outgoing_answer varchar(128)",
        "stir_shaken ast_bool_values",
        "send_history_info ast_bool_values",
        "allow_unauthenticated_options ast_bool_values",
        "t38_bind_udptl_to_media_address ast_bool_values",
        "geoloc_incoming_call_profile varchar(80)",
        "geoloc_outgoing_call_profile varchar(80)",
        "incoming_call_offer_pref pjsip_incoming_call_offer_pref_values",
        "outgoing_call_offer_pref pjsip_outgoing_call_offer_pref_values",
        "stir_shaken_profile varchar(80)",
        "security_negotiation security_negotiation_values",
        "security_mechanisms varchar(512)",
        "send_aoc ast_bool_values",
        "overlap_context varchar(80)",
        "tenantid varchar(80)",
        "suppress_moh_on_sendonly ast_bool_values",
        "follow_redirect_methods varchar(95)",
        "rtp_port_start integer",
        "rtp_port_end integer",
    ),
    "ps_auths": (
        "id varchar(255) NOT NULL",
        "auth_type pjsip_auth_type_values_v2",
        "nonce_lifetime integer",
        "md5_cred varchar(40)",
        "password varchar(80)",
        "realm varchar(255)",
        "username varchar(40)",
        "refresh_token varchar(255)",
        "oauth_clientid varchar(255)",
        "oauth_secret varchar(255)",
        "password_digest varchar(1024)",
        "supported_algorithms_uas varchar(1024)",
        "supported_algorithms_uac varchar(1024)",
    ),
    "ps_aors": (
        "id varchar(255) NOT NULL",
        "contact varchar(255)",
        "default_expiration integer",
        "mailboxes varchar(80)",
        "max_contacts integer",
        "minimum_expiration integer",
        "remove_existing ast_bool_values",
        "qualify_frequency integer",
        "authenticate_qualify ast_bool_values",
        "maximum_expiration integer",
        "outbound_proxy varchar(255)",
        "support_path ast_bool_values",
        "qualify_timeout double precision",
        "voicemail_extension varchar(40)",
        "remove_unavailable ast_bool_values",
        "qualify_2xx_only ast_bool_values",
    ),
    "ps_contacts": (
        "id varchar(255) NOT NULL",
        "uri varchar(511)",
        "expiration_time bigint",
        "qualify_frequency integer",
        "outbound_proxy varchar(255)",
        "path text",
        "user_agent varchar(255)",
        "qualify_timeout double precision",
        "reg_server varchar(255)",
        "authenticate_qualify ast_bool_values",
        "via_addr varchar(40)",
        "via_port integer",
        "call_id varchar(255)",
        "endpoint varchar(255)",
        "prune_on_boot ast_bool_values",
        "qualify_2xx_only ast_bool_values",
    ),
    "ps_registrations": (
        "id varchar(255) NOT NULL",
        "auth_rejection_permanent ast_bool_values",
        "client_uri varchar(255)",
        "contact_user varchar(40)",
        "expiration integer",
        "max_retries integer",
        "outbound_auth varchar(255)",
        "outbound_proxy varchar(255)",
        "retry_interval integer",
        "forbidden_retry_interval integer",
        "server_uri varchar(255)",
        "transport varchar(40)",
        "support_path ast_bool_values",
        "fatal_retry_interval integer",
        "line ast_bool_values",
        "endpoint varchar(255)",
        "support_outbound ast_bool_values",
        "contact_header_params varchar(255)",
        "max_random_initial_delay integer",
        "security_negotiation security_negotiation_values",
        "security_mechanisms varchar(512)",
        "user_agent varchar(255)",
    ),
    "ps_endpoint_id_ips": (
        "id varchar(255) NOT NULL",
        "endpoint varchar(255)",
        "match varchar(80)",
        "srv_lookups ast_bool_values",
        "match_header varchar(255)",
        "match_request_uri varchar(255)",
    ),
    "ps_domain_aliases": (
        "id varchar(255) NOT NULL",
        "domain varchar(255)",
    ),
}

ASTERISK_ENUMS: dict[str, tuple[str, ...]] = {
    "ast_bool_values": ("0", "1", "off", "on", "false", "true", "no", "yes"),
    "pjsip_100rel_values_v2": ("no", "required", "peer_supported", "yes"),
    "pjsip_auth_type_values_v2": ("md5", "userpass", "google_oauth"),
    "pjsip_cid_privacy_values": (
        "allowed_not_screened",
        "allowed_passed_screened",
        "allowed_failed_screened",
        "allowed",
        "prohib_not_screened",
        "prohib_passed_screened",
        "prohib_failed_screened",
        "prohib",
        "unavailable",
    ),
    "pjsip_connected_line_method_values": ("invite", "reinvite", "update"),
    "pjsip_direct_media_glare_mitigation_values": ("none", "outgoing", "incoming"),
    "pjsip_dtls_setup_values": ("active", "passive", "actpass"),
    "pjsip_dtmf_mode_values_v3": ("rfc4733", "inband", "info", "auto", "auto_info"),
    "pjsip_incoming_call_offer_pref_values": ("local", "local_first", "remote", "remote_first"),
    "pjsip_media_encryption_values": ("no", "sdes", "dtls"),
    "pjsip_outgoing_call_offer_pref_values": (
        "local",
        "local_merge",
        "local_first",
        "remote",
        "remote_merge",
        "remote_first",
    ),
    "pjsip_redirect_method_values": ("user", "uri_core", "uri_pjsip"),
    "pjsip_t38udptl_ec_values": ("none", "fec", "redundancy"),
    "pjsip_timer_values": ("forced", "no", "required", "yes"),
    "security_negotiation_values": ("no", "mediasec"),
    "sha_hash_values": ("SHA-1", "SHA-256"),
}

_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute a
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_ENUM_SQL = """
SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
WHERE t.typname = %s ORDER BY e.enumsortorder
"""


def _columns(dsn: str, table: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(_COLUMNS_SQL, (table,)).fetchall()
    return {
        f"{name} {type_.replace('character varying', 'varchar')}{' NOT NULL' if not_null else ''}"
        for name, type_, not_null in rows
    }


def test_the_frozen_reference_is_asterisk_head() -> None:
    assert pjsip.ASTERISK_ALEMBIC_HEAD == "e89e30cee53f"
    assert sorted(ASTERISK_PS_COLUMNS) == sorted(t.name for t in pjsip.PJSIP_TABLES)
    assert len(ASTERISK_PS_COLUMNS["ps_endpoints"]) == 147


def test_given_migrated_database_then_ps_columns_equal_asterisk_head(migrated_dsn: str) -> None:
    for table, expected in ASTERISK_PS_COLUMNS.items():
        actual = _columns(migrated_dsn, table)
        assert actual == set(expected), (
            table,
            {"missing": sorted(set(expected) - actual), "extra": sorted(actual - set(expected))},
        )


def test_given_migrated_database_then_enum_labels_equal_asterisk_head(migrated_dsn: str) -> None:
    with psycopg.connect(migrated_dsn) as conn:
        for name, labels in ASTERISK_ENUMS.items():
            actual = tuple(row[0] for row in conn.execute(_ENUM_SQL, (name,)).fetchall())
            assert actual == labels, name


def test_the_columns_asterisk_queries_by_name_are_there(migrated_dsn: str) -> None:
    # Seen failing against partial schemas: 'column "mailboxes" does not exist'.
    names = {table: {c.split()[0] for c in _columns(migrated_dsn, table)} for table in ASTERISK_PS_COLUMNS}
    assert {"mailboxes", "100rel", "rtp_port_start", "rtp_port_end", "follow_redirect_methods"} <= names[
        "ps_endpoints"
    ]
    assert {
        "endpoint",
        "qualify_timeout",
        "reg_server",
        "authenticate_qualify",
        "via_addr",
        "via_port",
        "call_id",
        "prune_on_boot",
        "qualify_2xx_only",
    } <= names["ps_contacts"]
    assert {"password_digest", "supported_algorithms_uas", "supported_algorithms_uac"} <= names["ps_auths"]


def test_sqlalchemy_tables_equal_the_migrated_schema(make_database: Callable[[], str]) -> None:
    from ara_schema import migrate

    dsn = make_database()
    migrate.upgrade(dsn)
    engine = sa.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            diffs = [
                d
                for d in compare_metadata(context, metadata)
                if not (d[0] == "remove_table" and d[1].name == VERSION_TABLE)
            ]
    finally:
        engine.dispose()
    assert diffs == []


def test_constraint_and_index_names_equal_the_metadata(migrated_dsn: str) -> None:
    # compare_metadata() does not look at CHECK constraints or names; IntegrityViolation.constraint_name does.
    with psycopg.connect(migrated_dsn) as conn:
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f', 'c')"
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
    actual = {(t, n) for t, n in constraints + indexes if t != VERSION_TABLE}
    expected = {
        (table.name, str(item.name))
        for table in metadata.tables.values()
        for item in [*table.constraints, *table.indexes]
        if isinstance(item, sa.Constraint | sa.Index)
    }
    assert actual == expected
