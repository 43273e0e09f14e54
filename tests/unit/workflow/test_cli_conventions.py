"""The command line's conventions: --version, --help pages with examples, shell completion
with or without argcomplete, `make help`, errors as plain text and as JSON, and how long each
kind of command holds or waits for the home's lock."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from runtime import cli
from runtime.cli.commands import COMMANDS

REPO = Path(cli.__file__).resolve().parents[2]


def _main(*argv: str):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_version_is_the_installed_distribution_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"stockpipe {version('stockpipe')}\n"


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_help_page_has_a_description_and_an_example(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    page = capsys.readouterr().out
    spec = {c.name: c for c in COMMANDS}[command]
    assert spec.description and spec.examples
    assert " ".join(spec.description.split()[:6]) in " ".join(page.split())
    examples = page.split("examples:\n", 1)[1].splitlines()
    assert examples and all(line.startswith(f"  stockpipe {command}") or
                            "stockpipe " + command in line for line in examples)


_SHELL = {"|", "||", "&&", "&", ">", ">>", "2>&1"}


@pytest.mark.parametrize("example", [e for c in COMMANDS for e in c.examples])
def test_every_help_example_is_a_command_line_the_parser_accepts(example):
    import shlex

    words = shlex.split(example)
    words = words[words.index("stockpipe") + 1:]
    words = words[:next((i for i, w in enumerate(words) if w in _SHELL), len(words))]
    args = cli.build_parser().parse_args(words)  # a UsageError here fails the test
    assert args.command == words[0]


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    page = capsys.readouterr().out
    for c in COMMANDS:
        assert f"    {c.name} " in page


def _complete(line: str, tmp_path: Path, block_argcomplete: bool = False):
    target = tmp_path / "completions"
    code = "import sys\n"
    if block_argcomplete:
        code += "sys.modules['argcomplete'] = None\n"  # as if it were not installed
    code += "from runtime.cli import main\nsys.exit(main())\n"
    env = dict(os.environ, _ARGCOMPLETE="1", COMP_LINE=line, COMP_POINT=str(len(line)),
               _ARGCOMPLETE_STDOUT_FILENAME=str(target))
    proc = subprocess.run([sys.executable, "-c", code, *line.split()[1:]], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    proc.completions = target.read_text().split() if target.exists() else None
    return proc


def test_shell_completion_offers_commands_and_options(tmp_path):
    pytest.importorskip("argcomplete", reason="argcomplete is the optional completion extra")
    assert _complete("stockpipe sta", tmp_path).completions == ["status"]
    assert set(_complete("stockpipe tables --de", tmp_path).completions) == {"--details",
                                                                              "--debug"}


def test_without_argcomplete_a_completion_request_runs_the_command_normally(tmp_path):
    proc = _complete("stockpipe --version", tmp_path, block_argcomplete=True)
    assert (proc.returncode, proc.stdout, proc.completions) == (
        0, f"stockpipe {version('stockpipe')}\n", None)


def test_make_help_lists_every_target():
    makefile = (REPO / "Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:"))
    targets = phony.split(":", 1)[1].split()
    proc = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=True)
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert sorted(listed) == sorted(targets)
    assert all(len(line.split(None, 1)) == 2 for line in proc.stdout.splitlines()
               if line.startswith("  ")), proc.stdout  # each with its description


def test_make_install_dev_fetches_the_lambda_wheels_the_infra_tests_build_from():
    # packaging's error tells a user the wheelhouse is "part of `make install-dev`"
    proc = subprocess.run(["make", "-n", "-B", "install-dev"], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    assert "components/fetch_wheels.sh" in proc.stdout


# ---- errors -----------------------------------------------------------------------------------
def test_a_usage_error_under_json_is_also_an_object_on_stdout(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "--days", "0", "--json"])
    assert info.value.code == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "error": "argument --days: --days must be between 1 and 3660, got 0",
        "exit_code": 1, "hint": "see `stockpipe --help`"}
    assert captured.err.startswith("stockpipe run: error: argument --days")


def test_sql_errors_are_plain_text_without_terminal_escape_codes(tmp_path):
    # sqlglot underlines the bad token with ANSI codes in its own message
    code, out, err = _main("query", "--home", str(tmp_path), "SELECT (1")
    assert code == 1 and out == ""
    assert err == ("stockpipe: error: Expecting ). Line 1, Col: 9. SELECT (1 "
                   "[statement: SELECT (1]\n")


def test_a_busy_home_under_json_names_the_holder_in_the_error_object(locked_home):
    home, pid = locked_home
    code, out, err = _main("checks", "--home", str(home), "--json")
    assert code == 1
    error = json.loads(out)
    assert re.fullmatch(
        rf"another stockpipe process \(PID {pid}: stockpipe run since "
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) is using {re.escape(str(home))}; wait for "
        "it to finish, or use another --home", error["error"]), error
    assert error["hint"].startswith("wait for the other process (`stockpipe status` names it)")
    assert err == f"stockpipe: error: {error['error']}\n"


# ---- the home's lock --------------------------------------------------------------------------
HOLD_BRIEFLY = """
import sys, time
from runtime.cli import home_lock
with home_lock(sys.argv[1], command="run"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def locked_home(tmp_path):
    """A home whose lock another process holds until the test ends; yields (home, pid)."""
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, "-c", HOLD_BRIEFLY, str(home), "600"], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield home, proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_reader_waits_for_a_writer_and_says_what_it_waits_for(tmp_path):
    home = tmp_path / "home"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_BRIEFLY, str(home), "1.5"], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    code, out, err = _main("tables", "--home", str(home))
    holder.wait(timeout=30)
    assert (code, out) == (0, "")  # an empty catalog, read once the writer was done
    (line,) = err.splitlines()
    assert line.startswith(f"stockpipe: waiting up to 30s for PID {holder.pid}: stockpipe run "
                           "since 20")
    assert line.endswith(f" to finish with {home}")


def test_a_writer_does_not_wait_unless_asked(locked_home):
    home, pid = locked_home
    code, _, err = _main("ingest", "--home", str(home), "--source", "demo")
    assert code == 1 and "is using" in err and "waiting" not in err
    code, _, err = _main("ingest", "--home", str(home), "--source", "demo", "--wait", "0.3")
    assert code == 1
    assert err.splitlines()[0].startswith(f"stockpipe: waiting up to 0.3s for PID {pid}")


class _Recorder(io.StringIO):
    """stdout that notes, at each write, whether the home's lock is held."""

    def __init__(self, home):
        super().__init__()
        self.home = home
        self.holders = []

    def write(self, text):
        self.holders.append(cli.lock_holder(self.home))
        return super().write(text)


def test_query_prints_its_result_after_releasing_the_lock(tmp_path):
    out = _Recorder(tmp_path)
    code = cli.main(["query", "--home", str(tmp_path), "SELECT 42 AS answer"], stdout=out,
                    stderr=io.StringIO())
    assert code == 0
    assert out.getvalue().splitlines()[2] == "42"
    assert out.holders and set(out.holders) == {None}


def test_a_scheduled_job_stopped_by_sigterm_stops_the_schedule(tmp_path, monkeypatch):
    from apscheduler.schedulers.background import BackgroundScheduler

    import runtime.ingest
    from runtime.cli.signals import Stopped
    from runtime.settings import Settings

    def stopped(*args, **kwargs):
        raise Stopped(signal.SIGTERM)

    monkeypatch.setattr(runtime.ingest, "run_ingest", stopped)
    err = io.StringIO()
    scheduler = cli.build_scheduler(Settings(home=tmp_path), cli.Console(io.StringIO(), err, False),
                                    BackgroundScheduler)
    {j.id: j for j in scheduler.get_jobs()}["ingest"].func()  # APScheduler would swallow it
    assert err.getvalue() == "scheduled ingest: stopped before it finished\n"
    assert scheduler.stop_signal.exit_code == 143
    assert cli.lock_holder(tmp_path) is None


def test_schedule_tickers_option_sets_the_tickers_its_jobs_use():
    from runtime.cli.commands.base import settings_from

    args = cli.build_parser().parse_args(["schedule", "--tickers", "MSFT,BRK.B"])
    assert list(settings_from(args).tickers) == ["MSFT", "BRK.B"]


_INTERRUPTED_QUERY_COMMAND = """
import os
import signal
import sys
import time
from dataclasses import replace

from runtime.cli import app
from runtime.cli.commands import BY_NAME


def query_cut_short(args, console):
    try:
        os.kill(os.getpid(), int(sys.argv[2]))
        time.sleep(30)  # the signal's handler raises here
    except KeyboardInterrupt:
        # DuckDB's own signal check gets the handler's exception and raises this instead
        raise RuntimeError("Query interrupted") from None
    return 0


BY_NAME["checks"] = replace(BY_NAME["checks"], run=query_cut_short)
sys.exit(app.main(["checks", "--home", sys.argv[1]]))
"""


@pytest.mark.parametrize(("signum", "code", "line"), [
    (signal.SIGTERM, 143, "stockpipe: stopped (SIGTERM)"),
    (signal.SIGINT, 130, "stockpipe: interrupted (SIGINT)"),
])
def test_a_signal_during_a_duckdb_query_ends_with_the_signals_exit_code(tmp_path, signum, code,
                                                                        line):
    # A real `stockpipe run` sent SIGTERM during dedup ended with exit 1 and "RuntimeError:
    # Query interrupted": DuckDB replaces the handler's exception with its own error.
    proc = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_QUERY_COMMAND, str(tmp_path), str(int(signum))],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.splitlines()[-1] == line
    assert cli.lock_holder(tmp_path) is None


def test_a_home_that_cannot_be_a_folder_is_named_in_a_plain_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    home = blocker / "home"
    code, out, err = _main("--home", str(home), "run", "--source", "demo", "--wait", "0")
    assert code == 1
    assert err == (f"stockpipe: error: cannot use {home} as the stockpipe home: Not a directory; "
                   "pass a writable folder with --home (or $STOCKPIPE_HOME)\n")
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.parametrize("argv", [["tables"], ["query", "SELECT 1"]])
def test_a_reader_below_a_file_says_the_home_does_not_exist(tmp_path, argv):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    home = blocker / "home"
    code, out, err = _main("--home", str(home), *argv, "--wait", "0")
    assert code == 1
    assert err.startswith(f"stockpipe: error: the stockpipe home {home} does not exist; ")
    assert blocker.read_text() == "not a folder\n"


def test_a_home_error_under_json_says_check_the_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, out, err = _main("--home", str(blocker), "run", "--source", "demo", "--json")
    assert code == 1
    assert json.loads(out) == {
        "error": f"cannot use {blocker} as the stockpipe home: File exists; pass a writable "
                 "folder with --home (or $STOCKPIPE_HOME)",
        "exit_code": 1, "hint": "check the home folder exists and is writable",
    }
