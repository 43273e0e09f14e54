"""What Athena refuses, the local engine refuses too, under Athena's error names: DuckDB's table
functions and file names as tables (they would read any file of the machine), and tables whose
location lies outside the home's lake."""

from __future__ import annotations

import pytest

from runtime.engines.local import LocalEngine
from runtime.errors import EngineError
from runtime.settings import Settings

SECRET = "not for the analyst\n"


@pytest.fixture
def home(tmp_path):
    return Settings(home=tmp_path / "home", tickers=("AAPL",))


@pytest.fixture
def engine(home):
    eng = LocalEngine.from_settings(home)
    yield eng
    eng.close()


@pytest.fixture
def outside(tmp_path):
    """A folder beside the home, holding a file the engine must not read."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.csv").write_text("a,b\n" + SECRET)
    return folder


def _refused(engine, sql, name):
    with pytest.raises(EngineError) as err:
        engine.execute(sql)
    assert err.value.error_name == name, str(err.value)
    assert str(err.value).startswith(f"{name}: ")
    return str(err.value)


@pytest.mark.parametrize(
    "sql, function",
    [
        ("SELECT * FROM read_csv('{f}/secret.csv')", "read_csv"),
        ("SELECT * FROM read_text('{f}/secret.csv')", "read_text"),
        ("SELECT * FROM read_blob('{f}/secret.csv')", "read_blob"),
        ("SELECT * FROM read_json('{f}/secret.csv')", "read_json"),
        ("SELECT * FROM read_parquet('{f}/x.parquet')", "read_parquet"),
        ("SELECT * FROM (VALUES 1) v(x) JOIN parquet_metadata('{f}/x.parquet') g ON true",
         "parquet_metadata"),
        ("SELECT * FROM TABLE(read_csv('{f}/secret.csv'))", "read_csv"),
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("WITH a AS (SELECT * FROM read_text('{f}/secret.csv')) SELECT * FROM a", "read_text"),
        ("SELECT (SELECT count(*) FROM read_csv('{f}/secret.csv')) AS n", "read_csv"),
    ],
)
def test_duckdb_table_functions_are_not_registered(engine, outside, sql, function):
    message = _refused(engine, sql.format(f=outside), "FUNCTION_NOT_FOUND")
    assert f"Table function '{function}' not registered" in message
    assert SECRET.strip() not in message


def test_glob_does_not_even_parse_as_athena_sql(engine, outside):
    # Athena's glob does not exist; sqlglot's Athena reader takes GLOB for an operator
    with pytest.raises(EngineError, match=r"\[statement: SELECT \* FROM glob\("):
        engine.execute(f"SELECT * FROM glob('{outside}/*')")


@pytest.mark.parametrize("call", ["getenv('HOME')", "current_setting('home_directory')"])
def test_duckdb_functions_that_describe_the_host_are_not_registered(engine, call):
    name = call.split("(")[0]
    message = _refused(engine, f"SELECT {call} AS x", "FUNCTION_NOT_FOUND")
    assert f"Function '{name}' not registered" in message


@pytest.mark.parametrize("name", ["{f}/secret.csv", "secret.csv", "~/secret.csv"])
def test_a_file_name_as_a_table_is_an_unknown_table(engine, outside, name):
    message = _refused(engine, f'SELECT * FROM "{name.format(f=outside)}"', "TABLE_NOT_FOUND")
    assert SECRET.strip() not in message


def test_a_view_over_a_table_function_is_refused_and_not_created(engine, outside):
    _refused(engine, f"CREATE VIEW peek AS SELECT * FROM read_text('{outside}/secret.csv')",
             "FUNCTION_NOT_FOUND")
    assert engine.list_tables() == []


def test_ctas_outside_the_lake_is_denied_and_writes_nothing(engine, outside):
    target = outside / "dump"
    message = _refused(
        engine,
        f"CREATE TABLE dump WITH (external_location = '{target}/') AS SELECT 1 AS a",
        "PERMISSION_DENIED",
    )
    assert f"location '{target}' of table 'dump' is outside the lake" in message
    assert not target.exists()
    assert engine.list_tables() == []


def test_a_symbolic_link_in_the_lake_does_not_lead_out_of_it(engine, home, outside):
    home.lake_dir.mkdir(parents=True)
    (home.lake_dir / "door").symlink_to(outside)
    _refused(engine,
             f"CREATE TABLE dump WITH (external_location = '{home.lake_dir}/door/t/') "
             "AS SELECT 1 AS a", "PERMISSION_DENIED")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]


def test_an_external_table_outside_the_lake_is_denied(engine, outside):
    _refused(
        engine,
        f"CREATE EXTERNAL TABLE peek (a varchar) ROW FORMAT SERDE "
        f"'org.openx.data.jsonserde.JsonSerDe' LOCATION '{outside}/'",
        "PERMISSION_DENIED",
    )
    assert engine.list_tables() == []


def test_insert_into_a_table_registered_outside_the_lake_is_denied(home, outside):
    # A table an unrestricted engine (an older version) registered outside the lake.
    loose = LocalEngine(home.catalog_path, database=home.database)
    loose.execute(f"CREATE TABLE old WITH (external_location = '{outside}/old/') AS SELECT 1 AS a")
    loose.close()
    engine = LocalEngine.from_settings(home)
    try:
        _refused(engine, "INSERT INTO old SELECT 2 AS a", "PERMISSION_DENIED")
        assert engine.execute("SELECT count(*) FROM old").scalar() == 1
    finally:
        engine.close()


def test_tables_in_the_lake_and_athena_relations_still_work(engine, home):
    location = f"{home.curated_uri}t/"
    engine.execute(f"CREATE TABLE t WITH (external_location = '{location}') AS SELECT 1 AS a")
    engine.execute("INSERT INTO t SELECT 2 AS a")
    assert engine.execute("SELECT sum(a) FROM t").scalar() == 3
    assert engine.execute(
        "SELECT x + y FROM (VALUES 10) v(x) CROSS JOIN UNNEST(ARRAY[100, 200]) AS u(y) "
        "ORDER BY 1"
    ).rows == [(110,), (210,)]
    # a CTAS with no location goes to the settings' place, inside the lake
    engine.execute("CREATE TABLE u AS SELECT 1 AS a")
    assert engine.describe_table("u").location.startswith(str(home.lake_dir.resolve()))


def test_lake_roots_follow_settings_that_move_a_prefix(tmp_path):
    from runtime.engines.local.guard import lake_roots

    settings = Settings(home=tmp_path / "home", tickers=("AAPL",),
                        archive_uri_override=str(tmp_path / "archive") + "/")
    assert lake_roots(settings) == [str((tmp_path / "home" / "lake").resolve()),
                                    str((tmp_path / "archive").resolve())]
