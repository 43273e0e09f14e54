"""What the notebooks rely on: the CLI's home found from the repository root, a clear stop when
there is no data, and a quality re-check that writes nothing on Athena."""

from pathlib import Path

import pytest

from runtime.errors import ConfigError
from runtime.report import notebook
from runtime.settings import find_repo_root, repo_home

PYPROJECT = '[project]\nname = "stockpipe"\n'


def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def test_home_is_the_checkouts_dot_stockpipe_from_any_folder_inside_it(tmp_path):
    root = checkout(tmp_path)
    assert repo_home(root / "notebooks", environ={}) == root / ".stockpipe"
    assert repo_home(root, environ={}) == root / ".stockpipe"
    assert find_repo_root(root / "notebooks") == root.resolve()


def test_stockpipe_home_wins_as_it_does_for_the_cli(tmp_path):
    root = checkout(tmp_path)
    assert repo_home(root / "notebooks", environ={"STOCKPIPE_HOME": "/data/sp"}) == Path(
        "/data/sp")


def test_another_projects_pyproject_is_not_taken_for_the_checkout(tmp_path):
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    with pytest.raises(ConfigError, match="no stockpipe checkout .* set STOCKPIPE_HOME"):
        repo_home(other / "sub", environ={})


def test_no_data_stops_with_the_command_and_creates_nothing(tmp_path, monkeypatch):
    root = checkout(tmp_path)
    monkeypatch.delenv("STOCKPIPE_HOME", raising=False)
    monkeypatch.chdir(root / "notebooks")
    with pytest.raises(notebook.NoDataError) as stop:
        notebook.open_backend("local")
    assert str(stop.value) == (
        f"no stockpipe data in {(root / '.stockpipe').resolve()}: run `make run` (or "
        f"`stockpipe run`) from {root.resolve()} first, or set STOCKPIPE_HOME to the home that "
        "holds your data")
    assert not (root / ".stockpipe").exists()


def test_a_home_without_the_needed_table_names_it(settings, checks_only, monkeypatch):
    checks_only.close()
    with pytest.raises(notebook.NoDataError, match="missing stock_aggregate_prod_latest; run"):
        notebook.open_backend("local", home=str(settings.home))


def test_local_backend_ignores_an_athena_workgroup_in_the_environment(settings, loaded,
                                                                     monkeypatch):
    loaded.close()
    monkeypatch.setenv("STOCKPIPE_ATHENA_WORKGROUP", "prod-wg")
    opened, engine = notebook.open_backend("local", home=str(settings.home))
    try:
        assert opened.athena_workgroup is None
        assert type(engine).__name__ == "LocalEngine"
    finally:
        engine.close()


def test_athena_backend_needs_a_workgroup_and_an_unknown_backend_is_named():
    with pytest.raises(ConfigError, match="ATHENA_WORKGROUP"):
        notebook.open_backend("athena")
    with pytest.raises(ConfigError, match="'duckdb'"):
        notebook.open_backend("duckdb")


class Recording:
    """An engine that records every statement it is sent."""

    def __init__(self, engine):
        self.engine = engine
        self.sent = []

    def execute(self, sql):
        self.sent.append(sql)
        return self.engine.execute(sql)

    def __getattr__(self, name):
        return getattr(self.engine, name)


def _history_rows(engine, settings):
    return engine.execute(f"SELECT count(*) FROM {settings.dq_table}").scalar()


def test_quality_recheck_on_athena_only_reads_the_history(loaded, settings):
    before = _history_rows(loaded, settings)
    spy = Recording(loaded)
    latest, done = notebook.recheck_quality(settings, spy, "athena")
    assert latest.run_id == "r2" and [c.name for c in latest.checks] == [
        "duplicate_keys", "freshness", "null_values"]
    assert "read-only on Athena" in done
    assert spy.sent and all(s.lstrip().upper().startswith(("SELECT", "WITH", "--"))
                            for s in spy.sent)
    assert not any(word in s.upper() for s in spy.sent for word in ("INSERT", "CREATE TABLE"))
    assert _history_rows(loaded, settings) == before


def test_quality_recheck_locally_records_a_new_run(settings, engine):
    from tests.e2e.conftest import END, T0, Lake

    lake = Lake(settings.replace(tickers=("AAPL",)), engine=engine)
    lake.ingest(end=END, now=T0)
    lake.workflow()
    before = _history_rows(engine, settings)
    result, done = notebook.recheck_quality(settings, engine, "local")
    assert "recorded" in done
    assert _history_rows(engine, settings) == before + len(result.checks)


def test_charts_render_for_jupyterlab_and_for_an_html_export():
    import plotly.io as pio

    saved = pio.renderers.default
    try:
        assert notebook.exportable_charts() == "plotly_mimetype+notebook"
        bundle = pio.renderers._build_mime_bundle({"data": [], "layout": {}})
        assert "application/vnd.plotly.v1+json" in bundle and "text/html" in bundle
    finally:
        pio.renderers.default = saved
