"""Alembic environment and revisions for the Ringline database (run through ``ara_schema.migrate``)."""

VERSION_TABLE = "alembic_version_ara_schema"
"""Alembic's version table, named per tree like Asterisk's own ``alembic_version_config`` so both can share a
database without clobbering each other."""
