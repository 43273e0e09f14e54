"""The fast part of mutation testing, run with every test: the mutant list still matches the code
(so it cannot rot silently), every rule file has mutants, and the harness tells killed from
survived. The whole list runs with `make mutate`."""

from __future__ import annotations

from pathlib import Path

from runtime.checks import all_checks
from tests.mutation import harness

WINDOW_TESTS = '["tests/unit/ingest/test_window.py"]'


def _list(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mutants.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_every_mutant_finds_its_original_text_once_and_its_tests():
    mutants = harness.load()
    assert len(mutants) >= 40
    assert harness.problems(mutants) == []


def test_every_rule_file_has_mutants():
    files = {m.file for m in harness.load()}
    rules = {f"runtime/sql/{c.sql_file}" for c in all_checks()} | {
        "runtime/sql/dedup_select.sql", "runtime/records.py", "runtime/window.py"}
    assert rules <= files


def test_a_list_that_no_longer_matches_the_code_fails_before_running(tmp_path, capsys):
    path = _list(tmp_path, f"""
[[mutant]]
file = "runtime/window.py"
original = "days < 100:"
replacement = "days < 0:"
reason = "a clause that is not there"
tests = {WINDOW_TESTS}

[[mutant]]
file = "runtime/no_such_file.py"
original = "x"
replacement = "y"
reason = "a file that is not there"
tests = {WINDOW_TESTS}
""")
    assert harness.main(["--list", str(path)]) == 2
    err = capsys.readouterr().err
    assert "runtime/window.py: a clause that is not there: original text 'days < 100:' " \
           "not found in runtime/window.py" in err
    assert "no file runtime/no_such_file.py" in err


def test_the_harness_reports_a_killed_and_a_surviving_mutant(tmp_path, capsys):
    # A Python mutant runs in a new interpreter, a SQL one in the long-lived pytest worker; a
    # comment change cannot fail a test: it must be reported as a survivor.
    path = _list(tmp_path, f"""
[[mutant]]
file = "runtime/window.py"
original = "days < 1:"
replacement = "days < 0:"
reason = "accept days = 0"
tests = {WINDOW_TESTS}
select = "positive_whole_number"

[[mutant]]
file = "runtime/sql/checks/zero_values.sql"
original = "-- severity: error"
replacement = "-- severity: warning"
reason = "demote to a warning"
tests = ["tests/unit/workflow/test_checks.py"]
select = "every_documented_check"

[[mutant]]
file = "runtime/window.py"
original = "# The last *complete* exchange day"
replacement = "# The last exchange day"
reason = "a comment"
tests = {WINDOW_TESTS}
select = "positive_whole_number"
""")
    before = [(harness.REPO / f).read_text(encoding="utf-8")
              for f in ("runtime/window.py", "runtime/sql/checks/zero_values.sql")]
    assert harness.main(["--list", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "KILLED" in lines[1] and "accept days = 0" in lines[1]
    assert "KILLED" in lines[2] and "zero_values.sql: demote to a warning" in lines[2]
    assert "SURVIVED" in lines[3] and "a comment" in lines[3]
    assert "3 mutants: 2 killed, 1 survived, 0 errors" in lines[4]
    # The mutants were applied to a scratch copy: the repository is untouched.
    assert [(harness.REPO / f).read_text(encoding="utf-8")
            for f in ("runtime/window.py", "runtime/sql/checks/zero_values.sql")] == before
