"""Ringline database schema: Asterisk Realtime PJSIP tables (ps_*) and Ringline tables, alembic migrations.

Imports nothing else of Ringline. Modules:

- ``tables``: SQLAlchemy Core tables on one ``MetaData`` - ``pjsip`` (ps_*, column-compatible with Asterisk
  22.10's alembic head ``e89e30cee53f``), ``tenancy``, ``calls``, ``audit``.
- ``migrate``: ``upgrade(dsn, revision="head")``, ``current(dsn)`` (alembic, psycopg 3, no alembic.ini).
- ``pool``: ``create_pool(dsn, ...)`` (asyncpg, bounded retries).
- ``provisioning``: tenants, PJSIP extensions/trunks (md5_cred only), DIDs (asyncpg).
- ``embedded``: ``EmbeddedPostgres`` - a PostgreSQL on 127.0.0.1:5433 from the pgserver wheel's binaries.
- ``errors``: the error tree (``AraError`` ...) and SQLSTATE mapping.
"""
