"""Ringline database schema: Asterisk Realtime PJSIP tables (ps_*) and Ringline tables, alembic migrations."""
