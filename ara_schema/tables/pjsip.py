"""Asterisk Realtime (ARA) PJSIP tables, column-compatible with Asterisk 22.10.

Matches Asterisk's ``contrib/ast-db-manage/config`` alembic head ``e89e30cee53f``
("add rtp_port_start and rtp_port_end to ps_endpoints", tag 22.10.1): the column set, types, varchar
lengths, nullability (all nullable but ``id``) and PostgreSQL enum types with their labels in order.
Derived by replaying all 130 Asterisk revisions (base -> e89e30cee53f) on PostgreSQL and recording,
per column, the revision that added it and the last one that altered it (the trailing comment on each
column: ``added[, last altered]``). Dropped on the way, so absent here: ``ps_endpoints.mwi_fromuser``
(2fc7930b41b3), ``ps_endpoints.suppress_q850_reason_header`` (7f85dd44c775),
``ps_endpoint_id_ips.transport`` (added d5122576cca8, reverted bd9c5159c7ea). ``identify_by`` is
``varchar(80)`` since 52798ad97bdf (the ``pjsip_identify_by_values`` enum is gone at the head).

Deliberate differences that do not change what Asterisk sees: ``id`` is the primary key
(Asterisk: ``NOT NULL`` + ``UNIQUE`` + a plain index; a primary key is the same constraint); the
redundant ``ps_contacts_uq (id, reg_server)`` is implied by that key.
Not here: the other realtime tables (``ps_transports``, ``ps_globals``, ``ps_systems``,
``ps_subscription_persistence``, ``ps_outbound_publishes``, ``ps_resource_list``,
``ps_asterisk_publications``, ``ps_inbound_publications``) - Ringline configures those statically - and
the enum types only they use (``pjsip_transport_method_values_v2``, ``pjsip_transport_protocol_values_v2``,
``pjsip_taskprocessor_overload_trigger_values``).

Ringline convention: ids are tenant-prefixed (``<tenant slug>-<extension>``); no extra columns, since
sorcery rejects fields it does not know.

Unsure / notes (docs):
- The migrations give no server defaults; Asterisk applies its own defaults for NULL columns, so none
  are set here either.
- ``ps_endpoints.mailboxes`` is ``varchar(40)`` but ``ps_aors.mailboxes`` is ``varchar(80)``;
  ``ps_auths.username`` and ``ps_endpoints.context``/``callerid`` are only ``varchar(40)`` - verbatim
  from Asterisk, and they bound our tenant slug / extension / display-name lengths.
- ``ps_endpoints."100rel"`` starts with a digit: always quote it in raw SQL.
- ``sha_hash_values`` labels are upper case (``SHA-1``, ``SHA-256``), verbatim.

Source: asterisk/asterisk tag 22.10.1, contrib/ast-db-manage/config/versions/ (43956d550a44 created the
tables; head e89e30cee53f).
"""

from __future__ import annotations

import sqlalchemy as sa

from ara_schema.tables import metadata

ASTERISK_ALEMBIC_HEAD = "e89e30cee53f"
"""The Asterisk ``config`` alembic revision these tables are column-compatible with."""


def _enum(name: str, *labels: str) -> sa.Enum:
    """A PostgreSQL enum type owned by ``metadata`` (created once, shared by every column using it)."""
    return sa.Enum(*labels, name=name, metadata=metadata)


# Enum types, labels in Asterisk's order (PostgreSQL enum order matters for comparisons).
AST_BOOL_VALUES = _enum("ast_bool_values", "0", "1", "off", "on", "false", "true", "no", "yes")
PJSIP_100REL_VALUES_V2 = _enum("pjsip_100rel_values_v2", "no", "required", "peer_supported", "yes")
PJSIP_AUTH_TYPE_VALUES_V2 = _enum("pjsip_auth_type_values_v2", "md5", "userpass", "google_oauth")
PJSIP_CID_PRIVACY_VALUES = _enum(
    "pjsip_cid_privacy_values",
    "allowed_not_screened",
    "allowed_passed_screened",
    "allowed_failed_screened",
    "allowed",
    "prohib_not_screened",
    "prohib_passed_screened",
    "prohib_failed_screened",
    "prohib",
    "unavailable",
)
PJSIP_CONNECTED_LINE_METHOD_VALUES = _enum(
    "pjsip_connected_line_method_values", "invite", "reinvite", "update"
)
PJSIP_DIRECT_MEDIA_GLARE_MITIGATION_VALUES = _enum(
    "pjsip_direct_media_glare_mitigation_values", "none", "outgoing", "incoming"
)
PJSIP_DTLS_SETUP_VALUES = _enum("pjsip_dtls_setup_values", "active", "passive", "actpass")
PJSIP_DTMF_MODE_VALUES_V3 = _enum(
    "pjsip_dtmf_mode_values_v3", "rfc4733", "inband", "info", "auto", "auto_info"
)
PJSIP_INCOMING_CALL_OFFER_PREF_VALUES = _enum(
    "pjsip_incoming_call_offer_pref_values", "local", "local_first", "remote", "remote_first"
)
PJSIP_MEDIA_ENCRYPTION_VALUES = _enum("pjsip_media_encryption_values", "no", "sdes", "dtls")
PJSIP_OUTGOING_CALL_OFFER_PREF_VALUES = _enum(
    "pjsip_outgoing_call_offer_pref_values",
    "local",
    "local_merge",
    "local_first",
    "remote",
    "remote_merge",
    "remote_first",
)
PJSIP_REDIRECT_METHOD_VALUES = _enum("pjsip_redirect_method_values", "user", "uri_core", "uri_pjsip")
PJSIP_T38UDPTL_EC_VALUES = _enum("pjsip_t38udptl_ec_values", "none", "fec", "redundancy")
PJSIP_TIMER_VALUES = _enum("pjsip_timer_values", "forced", "no", "required", "yes")
SECURITY_NEGOTIATION_VALUES = _enum("security_negotiation_values", "no", "mediasec")
SHA_HASH_VALUES = _enum("sha_hash_values", "SHA-1", "SHA-256")


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(255), primary_key=True)


def _str(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length))


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text)


def _int(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer)


def _bigint(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger)


def _float(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Float(precision=53))  # double precision


def _bool(name: str) -> sa.Column[str]:
    """An ``ast_bool_values`` column: Asterisk's yes/no, stored as text labels, not SQL booleans."""
    return sa.Column(name, AST_BOOL_VALUES)


def _enum_col(name: str, enum: sa.Enum) -> sa.Column[str]:
    return sa.Column(name, enum)


ps_endpoints = sa.Table(
    "ps_endpoints",
    metadata,
    _id(),  # 43956d550a44, dac2b4c328b8
    _str("transport", 40),  # 43956d550a44
    _str("aors", 2048),  # 43956d550a44, dac2b4c328b8
    _str("auth", 255),  # 43956d550a44, dac2b4c328b8
    _str("context", 40),  # 43956d550a44
    _str("disallow", 200),  # 43956d550a44
    _str("allow", 200),  # 43956d550a44
    _bool("direct_media"),  # 43956d550a44, 74dc751dfe8e
    _enum_col("connected_line_method", PJSIP_CONNECTED_LINE_METHOD_VALUES),  # 43956d550a44
    _enum_col("direct_media_method", PJSIP_CONNECTED_LINE_METHOD_VALUES),  # 43956d550a44
    _enum_col("direct_media_glare_mitigation", PJSIP_DIRECT_MEDIA_GLARE_MITIGATION_VALUES),  # 43956d550a44
    _bool("disable_direct_media_on_nat"),  # 43956d550a44, 74dc751dfe8e
    _enum_col("dtmf_mode", PJSIP_DTMF_MODE_VALUES_V3),  # 43956d550a44, 164abbd708c
    _str("external_media_address", 40),  # 43956d550a44
    _bool("force_rport"),  # 43956d550a44, 74dc751dfe8e
    _bool("ice_support"),  # 43956d550a44, 74dc751dfe8e
    _str("identify_by", 80),  # 43956d550a44, 52798ad97bdf
    _str("mailboxes", 40),  # 43956d550a44
    _str("moh_suggest", 40),  # 43956d550a44
    _str("outbound_auth", 255),  # 43956d550a44, dac2b4c328b8
    _str("outbound_proxy", 255),  # 43956d550a44, dac2b4c328b8
    _bool("rewrite_contact"),  # 43956d550a44, 74dc751dfe8e
    _bool("rtp_ipv6"),  # 43956d550a44, 74dc751dfe8e
    _bool("rtp_symmetric"),  # 43956d550a44, 74dc751dfe8e
    _bool("send_diversion"),  # 43956d550a44, 74dc751dfe8e
    _bool("send_pai"),  # 43956d550a44, 74dc751dfe8e
    _bool("send_rpid"),  # 43956d550a44, 74dc751dfe8e
    _int("timers_min_se"),  # 43956d550a44
    _enum_col("timers", PJSIP_TIMER_VALUES),  # 43956d550a44
    _int("timers_sess_expires"),  # 43956d550a44
    _str("callerid", 40),  # 43956d550a44
    _enum_col("callerid_privacy", PJSIP_CID_PRIVACY_VALUES),  # 43956d550a44
    _str("callerid_tag", 40),  # 43956d550a44
    _enum_col("100rel", PJSIP_100REL_VALUES_V2),  # 43956d550a44, 539f68bede2c
    _bool("aggregate_mwi"),  # 43956d550a44, 74dc751dfe8e
    _bool("trust_id_inbound"),  # 43956d550a44, 74dc751dfe8e
    _bool("trust_id_outbound"),  # 43956d550a44, 74dc751dfe8e
    _bool("use_ptime"),  # 43956d550a44, 74dc751dfe8e
    _bool("use_avpf"),  # 43956d550a44, 74dc751dfe8e
    _enum_col("media_encryption", PJSIP_MEDIA_ENCRYPTION_VALUES),  # 43956d550a44
    _bool("inband_progress"),  # 43956d550a44, 74dc751dfe8e
    _str("call_group", 40),  # 43956d550a44
    _str("pickup_group", 40),  # 43956d550a44
    _str("named_call_group", 40),  # 43956d550a44
    _str("named_pickup_group", 40),  # 43956d550a44
    _int("device_state_busy_at"),  # 43956d550a44
    _bool("fax_detect"),  # 43956d550a44, 74dc751dfe8e
    _bool("t38_udptl"),  # 43956d550a44, 74dc751dfe8e
    _enum_col("t38_udptl_ec", PJSIP_T38UDPTL_EC_VALUES),  # 43956d550a44
    _int("t38_udptl_maxdatagram"),  # 43956d550a44
    _bool("t38_udptl_nat"),  # 43956d550a44, 74dc751dfe8e
    _bool("t38_udptl_ipv6"),  # 43956d550a44, 74dc751dfe8e
    _str("tone_zone", 40),  # 43956d550a44
    _str("language", 40),  # 43956d550a44
    _bool("one_touch_recording"),  # 43956d550a44, 74dc751dfe8e
    _str("record_on_feature", 40),  # 43956d550a44
    _str("record_off_feature", 40),  # 43956d550a44
    _str("rtp_engine", 40),  # 43956d550a44
    _bool("allow_transfer"),  # 43956d550a44, 74dc751dfe8e
    _bool("allow_subscribe"),  # 43956d550a44, 74dc751dfe8e
    _str("sdp_owner", 40),  # 43956d550a44
    _str("sdp_session", 40),  # 43956d550a44
    _str("tos_audio", 10),  # 43956d550a44, 4c573e7135bd
    _str("tos_video", 10),  # 43956d550a44, 4c573e7135bd
    _int("sub_min_expiry"),  # 43956d550a44
    _str("from_domain", 40),  # 43956d550a44
    _str("from_user", 40),  # 43956d550a44
    _str("mwi_from_user", 40),  # 2fc7930b41b3
    _str("dtls_verify", 40),  # 43956d550a44
    _str("dtls_rekey", 40),  # 43956d550a44
    _str("dtls_cert_file", 200),  # 43956d550a44
    _str("dtls_private_key", 200),  # 43956d550a44
    _str("dtls_cipher", 200),  # 43956d550a44
    _str("dtls_ca_file", 200),  # 43956d550a44
    _str("dtls_ca_path", 200),  # 43956d550a44
    _enum_col("dtls_setup", PJSIP_DTLS_SETUP_VALUES),  # 43956d550a44
    _bool("srtp_tag_32"),  # 43956d550a44, 74dc751dfe8e
    _str("media_address", 40),  # 2fc7930b41b3
    _enum_col("redirect_method", PJSIP_REDIRECT_METHOD_VALUES),  # 2fc7930b41b3
    _text("set_var"),  # 2fc7930b41b3
    _int("cos_audio"),  # 43956d550a44
    _int("cos_video"),  # 43956d550a44
    _str("message_context", 40),  # 3855ee4e5f85
    _bool("force_avp"),  # 51f8cb66540e, 74dc751dfe8e
    _bool("media_use_received_transport"),  # 51f8cb66540e, 74dc751dfe8e
    _str("accountcode", 80),  # 1d50859ed02e, 339a3bdf53fc
    _bool("user_eq_phone"),  # 371a3bf4143e, 74dc751dfe8e
    _bool("moh_passthrough"),  # 15b1430ad6f1, 74dc751dfe8e
    _bool("media_encryption_optimistic"),  # 945b1098bdd, 74dc751dfe8e
    _bool("rpid_immediate"),  # 23530d604b96, 74dc751dfe8e
    _bool("g726_non_standard"),  # 28b8e71e541f, 74dc751dfe8e
    _int("rtp_keepalive"),  # 498357a710ae
    _int("rtp_timeout"),  # 26f10cadc157
    _int("rtp_timeout_hold"),  # 26f10cadc157
    _bool("bind_rtp_to_media_address"),  # 26d7f3bf0fa5, 74dc751dfe8e
    _str("voicemail_extension", 40),  # 1c688d9a003c
    _bool("mwi_subscribe_replaces_unsolicited"),  # 1c688d9a003c, fe6592859b85
    _str("deny", 95),  # d7e3c73eb2bf
    _str("permit", 95),  # d7e3c73eb2bf
    _str("acl", 40),  # d7e3c73eb2bf
    _str("contact_deny", 95),  # d7e3c73eb2bf
    _str("contact_permit", 95),  # d7e3c73eb2bf
    _str("contact_acl", 40),  # d7e3c73eb2bf
    _str("subscribe_context", 40),  # 9deac0ae4717
    _int("fax_detect_timeout"),  # 4a6c67fa9b7a
    _str("contact_user", 80),  # 4e2493ef32e6
    _bool("preferred_codec_only"),  # 7f3e21abe318, 74dc751dfe8e
    _bool("asymmetric_rtp_codec"),  # 4468b4a91372, 74dc751dfe8e
    _bool("rtcp_mux"),  # 15db7b91a97a, 74dc751dfe8e
    _bool("allow_overlap"),  # 8fce4c573e15, 74dc751dfe8e
    _bool("refer_blind_progress"),  # 86bb1efa278d, 74dc751dfe8e
    _bool("notify_early_inuse_ringing"),  # d7983954dd96, 74dc751dfe8e
    _int("max_audio_streams"),  # 39959b9c2566
    _int("max_video_streams"),  # 39959b9c2566
    _bool("webrtc"),  # 44ccced114ce, 74dc751dfe8e
    _enum_col("dtls_fingerprint", SHA_HASH_VALUES),  # b83645976fdd
    _str("incoming_mwi_mailbox", 40),  # a1698e8bb9c5
    _bool("bundle"),  # de83fac997e2, 74dc751dfe8e
    _bool("dtls_auto_generate_cert"),  # 041c0d3d1857, 74dc751dfe8e
    _bool("follow_early_media_fork"),  # 0be05c3a8225, 74dc751dfe8e
    _bool("accept_multiple_sdp_answers"),  # 0be05c3a8225, 74dc751dfe8e
    _bool("suppress_q850_reason_headers"),  # 7f85dd44c775, 74dc751dfe8e
    _bool("trust_connected_line"),  # 1ac563b350a8
    _bool("send_connected_line"),  # 1ac563b350a8
    _bool("ignore_183_without_sdp"),  # 80473bad3c16
    _str("codec_prefs_incoming_offer", 128),  # b80485ff4dd0
    _str("codec_prefs_outgoing_offer", 128),  # b80485ff4dd0
    _str("codec_prefs_incoming_answer", 128),  # b80485ff4dd0
    _str("codec_prefs_outgoing_answer", 128),  # b80485ff4dd0
    _bool("stir_shaken"),  # 61797b9fced6
    _bool("send_history_info"),  # e658c26033ca
    _bool("allow_unauthenticated_options"),  # c20d6e3992f4
    _bool("t38_bind_udptl_to_media_address"),  # a06d8f8462d9
    _str("geoloc_incoming_call_profile", 80),  # 7197536bb68d
    _str("geoloc_outgoing_call_profile", 80),  # 7197536bb68d
    _enum_col("incoming_call_offer_pref", PJSIP_INCOMING_CALL_OFFER_PREF_VALUES),  # 9f3692b1654b
    _enum_col("outgoing_call_offer_pref", PJSIP_OUTGOING_CALL_OFFER_PREF_VALUES),  # 9f3692b1654b
    _str("stir_shaken_profile", 80),  # 9f3692b1654b
    _enum_col("security_negotiation", SECURITY_NEGOTIATION_VALUES),  # 417c0247fd7e
    _str("security_mechanisms", 512),  # 417c0247fd7e
    _bool("send_aoc"),  # 5a2247c957d2
    _str("overlap_context", 80),  # f261363a857f
    _str("tenantid", 80),  # 655054a68ad5
    _bool("suppress_moh_on_sendonly"),  # 4f91fc18c979
    _str("follow_redirect_methods", 95),  # bb6d54e22913
    _int("rtp_port_start"),  # e89e30cee53f
    _int("rtp_port_end"),  # e89e30cee53f
)
"""PJSIP endpoints: one row per phone / trunk (``id`` = ``<slug>-<extension>``)."""

ps_auths = sa.Table(
    "ps_auths",
    metadata,
    _id(),  # 43956d550a44, dac2b4c328b8
    _enum_col("auth_type", PJSIP_AUTH_TYPE_VALUES_V2),  # 43956d550a44, 465f47f880be
    _int("nonce_lifetime"),  # 43956d550a44
    _str("md5_cred", 40),  # 43956d550a44
    _str("password", 80),  # 43956d550a44
    _str("realm", 255),  # 43956d550a44, dac2b4c328b8
    _str("username", 40),  # 43956d550a44
    _str("refresh_token", 255),  # 465f47f880be
    _str("oauth_clientid", 255),  # 465f47f880be
    _str("oauth_secret", 255),  # 465f47f880be
    _str("password_digest", 1024),  # abdc9ede147d
    _str("supported_algorithms_uas", 1024),  # abdc9ede147d
    _str("supported_algorithms_uac", 1024),  # abdc9ede147d
)
"""Digest credentials; Ringline writes ``auth_type='md5'`` + ``md5_cred`` only."""

ps_aors = sa.Table(
    "ps_aors",
    metadata,
    _id(),  # 43956d550a44, dac2b4c328b8
    _str("contact", 255),  # 43956d550a44, 2d078ec071b7
    _int("default_expiration"),  # 43956d550a44
    _str("mailboxes", 80),  # 43956d550a44
    _int("max_contacts"),  # 43956d550a44
    _int("minimum_expiration"),  # 43956d550a44
    _bool("remove_existing"),  # 43956d550a44, 74dc751dfe8e
    _int("qualify_frequency"),  # 43956d550a44
    _bool("authenticate_qualify"),  # 43956d550a44, 74dc751dfe8e
    _int("maximum_expiration"),  # 2fc7930b41b3
    _str("outbound_proxy", 255),  # 2fc7930b41b3, dac2b4c328b8
    _bool("support_path"),  # 2fc7930b41b3, 74dc751dfe8e
    _float("qualify_timeout"),  # 461d7d691209, 423f34ad36e2
    _str("voicemail_extension", 40),  # 1c688d9a003c
    _bool("remove_unavailable"),  # f56d79a9f337
    _bool("qualify_2xx_only"),  # 44bd6dd914fa
    sa.Index(None, "qualify_frequency", "contact"),  # Asterisk: ps_aors_qualifyfreq_contact
)
"""Addresses of record: where an endpoint can be reached (``max_contacts``, qualify)."""

ps_contacts = sa.Table(
    "ps_contacts",
    metadata,
    _id(),  # 43956d550a44, e96a0b8071c
    _str("uri", 511),  # 43956d550a44, 1d3ed26d9978
    _bigint("expiration_time"),  # 43956d550a44, ef7efc2d3964
    _int("qualify_frequency"),  # 43956d550a44
    _str("outbound_proxy", 255),  # 2fc7930b41b3, dac2b4c328b8
    _text("path"),  # 2fc7930b41b3
    _str("user_agent", 255),  # 3855ee4e5f85, e96a0b8071c
    _float("qualify_timeout"),  # 461d7d691209, 423f34ad36e2
    _str("reg_server", 255),  # 81b01a191a46, 1ae0609b6646
    _bool("authenticate_qualify"),  # 6be31516058d, 74dc751dfe8e
    _str("via_addr", 40),  # a845e4d8ade8
    _int("via_port"),  # a845e4d8ade8
    _str("call_id", 255),  # a845e4d8ade8
    _str("endpoint", 255),  # ef7efc2d3964, dac2b4c328b8
    _bool("prune_on_boot"),  # f3d1c5d38b56, 74dc751dfe8e
    _bool("qualify_2xx_only"),  # 44bd6dd914fa
    sa.Index(None, "qualify_frequency", "expiration_time"),  # Asterisk: ps_contacts_qualifyfreq_exp
)
"""Registered contacts, written by Asterisk itself (``sorcery.conf`` contact=realtime)."""

ps_registrations = sa.Table(
    "ps_registrations",
    metadata,
    _id(),  # 2fc7930b41b3, dac2b4c328b8
    _bool("auth_rejection_permanent"),  # 2fc7930b41b3, 74dc751dfe8e
    _str("client_uri", 255),  # 2fc7930b41b3, e96a0b8071c
    _str("contact_user", 40),  # 2fc7930b41b3
    _int("expiration"),  # 2fc7930b41b3
    _int("max_retries"),  # 2fc7930b41b3
    _str("outbound_auth", 255),  # 2fc7930b41b3, dac2b4c328b8
    _str("outbound_proxy", 255),  # 2fc7930b41b3, dac2b4c328b8
    _int("retry_interval"),  # 2fc7930b41b3
    _int("forbidden_retry_interval"),  # 2fc7930b41b3
    _str("server_uri", 255),  # 2fc7930b41b3, e96a0b8071c
    _str("transport", 40),  # 2fc7930b41b3
    _bool("support_path"),  # 2fc7930b41b3, 74dc751dfe8e
    _int("fatal_retry_interval"),  # 28ce1e718f05
    _bool("line"),  # dbc44d5a908, 74dc751dfe8e
    _str("endpoint", 255),  # dbc44d5a908, dac2b4c328b8
    _bool("support_outbound"),  # 465f47f880be
    _str("contact_header_params", 255),  # 465f47f880be
    _int("max_random_initial_delay"),  # 18e0805d367f
    _enum_col("security_negotiation", SECURITY_NEGOTIATION_VALUES),  # 417c0247fd7e
    _str("security_mechanisms", 512),  # 417c0247fd7e
    _str("user_agent", 255),  # 24c12d8e9014
)
"""Outbound registrations (Asterisk registering to a carrier)."""

ps_endpoint_id_ips = sa.Table(
    "ps_endpoint_id_ips",
    metadata,
    _id(),  # 43956d550a44, dac2b4c328b8
    _str("endpoint", 255),  # 43956d550a44, dac2b4c328b8
    _str("match", 80),  # 43956d550a44
    _bool("srv_lookups"),  # 28ab27a7826d, 74dc751dfe8e
    _str("match_header", 255),  # 465e70e8c337
    _str("match_request_uri", 255),  # cf150a175fd3
)
"""Identify endpoints by source IP / header / request URI."""

ps_domain_aliases = sa.Table(
    "ps_domain_aliases",
    metadata,
    _id(),  # 43956d550a44, dac2b4c328b8
    _str("domain", 255),  # 43956d550a44, dac2b4c328b8
)
"""Domain aliases."""

PJSIP_TABLES: tuple[sa.Table, ...] = (
    ps_endpoints,
    ps_auths,
    ps_aors,
    ps_contacts,
    ps_registrations,
    ps_endpoint_id_ips,
    ps_domain_aliases,
)
"""The ARA tables Ringline owns, in creation order."""
