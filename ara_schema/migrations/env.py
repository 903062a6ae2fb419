"""Alembic environment.

``ara_schema.migrate`` passes an open connection in ``config.attributes["connection"]`` (inside a
transaction holding the migration advisory lock); without one, ``sqlalchemy.url`` is used.
"""

from typing import Any

import sqlalchemy as sa
from alembic import context

from ara_schema.migrations import VERSION_TABLE
from ara_schema.tables import metadata

config = context.config


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        transactional_ddl=True,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError(
            "ara_schema migrations need a connection or sqlalchemy.url; use ara_schema.migrate"
        )
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
