"""Asterisk Realtime PJSIP tables (ps_*), column-compatible with Asterisk's alembic head e89e30cee53f.

Frozen DDL: this revision must keep creating exactly what it created when it shipped; later changes go in
new revisions (and in ``ara_schema.tables.pjsip``). Column list: see that module's docstring for how it was
derived and the per-column Asterisk revisions.

Revision ID: 0001
Revises: (base)
Source: asterisk/asterisk tag 22.10.1, contrib/ast-db-manage/config/versions/ (head e89e30cee53f).
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ENUMS: dict[str, tuple[str, ...]] = {
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

# table -> ((column, type), ...) after ``id varchar(255) PRIMARY KEY``. Types: varchar(n), integer, bigint,
# double, text, bool (= ast_bool_values) or an enum name from ENUMS. Every column is nullable.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "ps_endpoints": (
        ("transport", "varchar(40)"),
        ("aors", "varchar(2048)"),
        ("auth", "varchar(255)"),
        ("context", "varchar(40)"),
        ("disallow", "varchar(200)"),
        ("allow", "varchar(200)"),
        ("direct_media", "bool"),
        ("connected_line_method", "pjsip_connected_line_method_values"),
        ("direct_media_method", "pjsip_connected_line_method_values"),
        ("direct_media_glare_mitigation", "pjsip_direct_media_glare_mitigation_values"),
        ("disable_direct_media_on_nat", "bool"),
        ("dtmf_mode", "pjsip_dtmf_mode_values_v3"),
        ("external_media_address", "varchar(40)"),
        ("force_rport", "bool"),
        ("ice_support", "bool"),
        ("identify_by", "varchar(80)"),
        ("mailboxes", "varchar(40)"),
        ("moh_suggest", "varchar(40)"),
        ("outbound_auth", "varchar(255)"),
        ("outbound_proxy", "varchar(255)"),
        ("rewrite_contact", "bool"),
        ("rtp_ipv6", "bool"),
        ("rtp_symmetric", "bool"),
        ("send_diversion", "bool"),
        ("send_pai", "bool"),
        ("send_rpid", "bool"),
        ("timers_min_se", "integer"),
        ("timers", "pjsip_timer_values"),
        ("timers_sess_expires", "integer"),
        ("callerid", "varchar(40)"),
        ("callerid_privacy", "pjsip_cid_privacy_values"),
        ("callerid_tag", "varchar(40)"),
        ("100rel", "pjsip_100rel_values_v2"),
        ("aggregate_mwi", "bool"),
        ("trust_id_inbound", "bool"),
        ("trust_id_outbound", "bool"),
        ("use_ptime", "bool"),
        ("use_avpf", "bool"),
        ("media_encryption", "pjsip_media_encryption_values"),
        ("inband_progress", "bool"),
        ("call_group", "varchar(40)"),
        ("pickup_group", "varchar(40)"),
        ("named_call_group", "varchar(40)"),
        ("named_pickup_group", "varchar(40)"),
        ("device_state_busy_at", "integer"),
        ("fax_detect", "bool"),
        ("t38_udptl", "bool"),
        ("t38_udptl_ec", "pjsip_t38udptl_ec_values"),
        ("t38_udptl_maxdatagram", "integer"),
        ("t38_udptl_nat", "bool"),
        ("t38_udptl_ipv6", "bool"),
        ("tone_zone", "varchar(40)"),
        ("language", "varchar(40)"),
        ("one_touch_recording", "bool"),
        ("record_on_feature", "varchar(40)"),
        ("record_off_feature", "varchar(40)"),
        ("rtp_engine", "varchar(40)"),
        ("allow_transfer", "bool"),
        ("allow_subscribe", "bool"),
        ("sdp_owner", "varchar(40)"),
        ("sdp_session", "varchar(40)"),
        ("tos_audio", "varchar(10)"),
        ("tos_video", "varchar(10)"),
        ("sub_min_expiry", "integer"),
        ("from_domain", "varchar(40)"),
        ("from_user", "varchar(40)"),
        ("mwi_from_user", "varchar(40)"),
        ("dtls_verify", "varchar(40)"),
        ("dtls_rekey", "varchar(40)"),
        ("dtls_cert_file", "varchar(200)"),
        ("dtls_private_key", "varchar(200)"),
        ("dtls_cipher", "varchar(200)"),
        ("dtls_ca_file", "varchar(200)"),
        ("dtls_ca_path", "varchar(200)"),
        ("dtls_setup", "pjsip_dtls_setup_values"),
        ("srtp_tag_32", "bool"),
        ("media_address", "varchar(40)"),
        ("redirect_method", "pjsip_redirect_method_values"),
        ("set_var", "text"),
        ("cos_audio", "integer"),
        ("cos_video", "integer"),
        ("message_context", "varchar(40)"),
        ("force_avp", "bool"),
        ("media_use_received_transport", "bool"),
        ("accountcode", "varchar(80)"),
        ("user_eq_phone", "bool"),
        ("moh_passthrough", "bool"),
        ("media_encryption_optimistic", "bool"),
        ("rpid_immediate", "bool"),
        ("g726_non_standard", "bool"),
        ("rtp_keepalive", "integer"),
        ("rtp_timeout", "integer"),
        ("rtp_timeout_hold", "integer"),
        ("bind_rtp_to_media_address", "bool"),
        ("voicemail_extension", "varchar(40)"),
        ("mwi_subscribe_replaces_unsolicited", "bool"),
        ("deny", "varchar(95)"),
        ("permit", "varchar(95)"),
        ("acl", "varchar(40)"),
        ("contact_deny", "varchar(95)"),
        ("contact_permit", "varchar(95)"),
        ("contact_acl", "varchar(40)"),
        ("subscribe_context", "varchar(40)"),
        ("fax_detect_timeout", "integer"),
        ("contact_user", "varchar(80)"),
        ("preferred_codec_only", "bool"),
        ("asymmetric_rtp_codec", "bool"),
        ("rtcp_mux", "bool"),
        ("allow_overlap", "bool"),
        ("refer_blind_progress", "bool"),
        ("notify_early_inuse_ringing", "bool"),
        ("max_audio_streams", "integer"),
        ("max_video_streams", "integer"),
        ("webrtc", "bool"),
        ("dtls_fingerprint", "sha_hash_values"),
        ("incoming_mwi_mailbox", "varchar(40)"),
        ("bundle", "bool"),
        ("dtls_auto_generate_cert", "bool"),
        ("follow_early_media_fork", "bool"),
        ("accept_multiple_sdp_answers", "bool"),
        ("suppress_q850_reason_headers", "bool"),
        ("trust_connected_line", "bool"),
        ("send_connected_line", "bool"),
        ("ignore_183_without_sdp", "bool"),
        ("codec_prefs_incoming_offer", "varchar(128)"),
        ("codec_prefs_outgoing_offer", "varchar(128)"),
        ("codec_prefs_incoming_answer", "varchar(128)"),
        ("codec_prefs_outgoing_answer", "varchar(128)"),
        ("stir_shaken", "bool"),
        ("send_history_info", "bool"),
        ("allow_unauthenticated_options", "bool"),
        ("t38_bind_udptl_to_media_address", "bool"),
        ("geoloc_incoming_call_profile", "varchar(80)"),
        ("geoloc_outgoing_call_profile", "varchar(80)"),
        ("incoming_call_offer_pref", "pjsip_incoming_call_offer_pref_values"),
        ("outgoing_call_offer_pref", "pjsip_outgoing_call_offer_pref_values"),
        ("stir_shaken_profile", "varchar(80)"),
        ("security_negotiation", "security_negotiation_values"),
        ("security_mechanisms", "varchar(512)"),
        ("send_aoc", "bool"),
        ("overlap_context", "varchar(80)"),
        ("tenantid", "varchar(80)"),
        ("suppress_moh_on_sendonly", "bool"),
        ("follow_redirect_methods", "varchar(95)"),
        ("rtp_port_start", "integer"),
        ("rtp_port_end", "integer"),
    ),
    "ps_auths": (
        ("auth_type", "pjsip_auth_type_values_v2"),
        ("nonce_lifetime", "integer"),
        ("md5_cred", "varchar(40)"),
        ("password", "varchar(80)"),
        ("realm", "varchar(255)"),
        ("username", "varchar(40)"),
        ("refresh_token", "varchar(255)"),
        ("oauth_clientid", "varchar(255)"),
        ("oauth_secret", "varchar(255)"),
        ("password_digest", "varchar(1024)"),
        ("supported_algorithms_uas", "varchar(1024)"),
        ("supported_algorithms_uac", "varchar(1024)"),
    ),
    "ps_aors": (
        ("contact", "varchar(255)"),
        ("default_expiration", "integer"),
        ("mailboxes", "varchar(80)"),
        ("max_contacts", "integer"),
        ("minimum_expiration", "integer"),
        ("remove_existing", "bool"),
        ("qualify_frequency", "integer"),
        ("authenticate_qualify", "bool"),
        ("maximum_expiration", "integer"),
        ("outbound_proxy", "varchar(255)"),
        ("support_path", "bool"),
        ("qualify_timeout", "double"),
        ("voicemail_extension", "varchar(40)"),
        ("remove_unavailable", "bool"),
        ("qualify_2xx_only", "bool"),
    ),
    "ps_contacts": (
        ("uri", "varchar(511)"),
        ("expiration_time", "bigint"),
        ("qualify_frequency", "integer"),
        ("outbound_proxy", "varchar(255)"),
        ("path", "text"),
        ("user_agent", "varchar(255)"),
        ("qualify_timeout", "double"),
        ("reg_server", "varchar(255)"),
        ("authenticate_qualify", "bool"),
        ("via_addr", "varchar(40)"),
        ("via_port", "integer"),
        ("call_id", "varchar(255)"),
        ("endpoint", "varchar(255)"),
        ("prune_on_boot", "bool"),
        ("qualify_2xx_only", "bool"),
    ),
    "ps_registrations": (
        ("auth_rejection_permanent", "bool"),
        ("client_uri", "varchar(255)"),
        ("contact_user", "varchar(40)"),
        ("expiration", "integer"),
        ("max_retries", "integer"),
        ("outbound_auth", "varchar(255)"),
        ("outbound_proxy", "varchar(255)"),
        ("retry_interval", "integer"),
        ("forbidden_retry_interval", "integer"),
        ("server_uri", "varchar(255)"),
        ("transport", "varchar(40)"),
        ("support_path", "bool"),
        ("fatal_retry_interval", "integer"),
        ("line", "bool"),
        ("endpoint", "varchar(255)"),
        ("support_outbound", "bool"),
        ("contact_header_params", "varchar(255)"),
        ("max_random_initial_delay", "integer"),
        ("security_negotiation", "security_negotiation_values"),
        ("security_mechanisms", "varchar(512)"),
        ("user_agent", "varchar(255)"),
    ),
    "ps_endpoint_id_ips": (
        ("endpoint", "varchar(255)"),
        ("match", "varchar(80)"),
        ("srv_lookups", "bool"),
        ("match_header", "varchar(255)"),
        ("match_request_uri", "varchar(255)"),
    ),
    "ps_domain_aliases": (("domain", "varchar(255)"),),
}

INDEXES = (
    ("ps_aors_qualify_frequency_contact_idx", "ps_aors", ["qualify_frequency", "contact"]),
    (
        "ps_contacts_qualify_frequency_expiration_time_idx",
        "ps_contacts",
        ["qualify_frequency", "expiration_time"],
    ),
)


def _type(spec: str) -> sa.types.TypeEngine[Any]:
    if spec.startswith("varchar("):
        return sa.String(int(spec[len("varchar(") : -1]))
    simple: dict[str, sa.types.TypeEngine[Any]] = {
        "integer": sa.Integer(),
        "bigint": sa.BigInteger(),
        "double": sa.Float(precision=53),
        "text": sa.Text(),
    }
    if spec in simple:
        return simple[spec]
    name = "ast_bool_values" if spec == "bool" else spec
    return postgresql.ENUM(*ENUMS[name], name=name, create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    for name, labels in ENUMS.items():
        postgresql.ENUM(*labels, name=name).create(bind, checkfirst=True)
    for table, columns in TABLES.items():
        op.create_table(
            table,
            sa.Column("id", sa.String(255), nullable=False),
            *(sa.Column(column, _type(spec)) for column, spec in columns),
            sa.PrimaryKeyConstraint("id", name=op.f(f"{table}_pkey")),
        )
    for index, table, index_columns in INDEXES:
        op.create_index(index, table, index_columns)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    bind = op.get_bind()
    for name in reversed(ENUMS):
        postgresql.ENUM(name=name).drop(bind, checkfirst=True)
