"""The database: migrations on both backends, SQLite durability settings, the SQLite guard."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from reconnect.database import (
    DatabaseError,
    check_sqlite_version,
    current_revision,
    head_revision,
    make_engine,
    normalise_url,
    sqlite_module,
    upgrade,
)
from reconnect.models import Base


@pytest.mark.usefixtures("backend")
def test_migrations_build_exactly_the_models_schema(app):
    engine = app.state.engine
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert set(inspect(engine).get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}


@pytest.mark.usefixtures("backend")
def test_upgrading_twice_changes_nothing(app):
    before = current_revision(app.state.engine)
    upgrade(app.state.engine)
    assert current_revision(app.state.engine) == before


def test_sqlite_runs_with_wal_full_sync_foreign_keys_and_secure_delete(app):
    with app.state.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("secure_delete") == 1


def test_the_bundled_sqlite_has_the_wal_reset_fix():
    assert sqlite_module().sqlite_version_info >= (3, 51, 3)


@pytest.mark.parametrize("version", [(3, 40, 1), (3, 51, 2), (3, 7, 0)])
def test_an_affected_sqlite_is_refused_with_a_clear_message(version):
    with pytest.raises(DatabaseError, match="WAL-reset"):
        check_sqlite_version(version)


def test_postgres_urls_are_routed_to_psycopg_3():
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("postgres://u@h/db").startswith("postgresql+psycopg://")


def test_unsupported_databases_are_refused_by_name():
    with pytest.raises(DatabaseError, match="Unsupported"):
        make_engine("mysql://root@localhost/test")


def test_the_sqlite_file_is_created_in_the_data_folder(tmp_path):
    from reconnect.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "nested" / "data")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    assert (tmp_path / "nested" / "data" / "reconnect.db").exists()
