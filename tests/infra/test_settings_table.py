"""The settings table is the one place a setting is declared: Pulumi.yaml, the Glue jobs'
arguments and docs/architecture.md's list must say what its rows say."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.stack_config import StackConfig, load_stack_config
from runtime.jobs import glue_entry
from runtime.settings import GLUE_ARGUMENTS, Settings, sources

ROOT = Path(__file__).resolve().parents[2]
JOB = "aws:glue/job:Job"
# A stack that sets every shared key away from its default, so a job argument that ignored the
# stack (or a row read back wrongly) would show.
STACK_CONFIG = {"tickers": "MSFT,BRK.B", "windowDays": "30", "rateLimitPerMin": "100",
                "database": "markets", "tablePrefix": "bars", "partitionGranularity": "hour",
                "archiveKeep": "3"}
# Job arguments that are not settings: which step, and Glue's own.
JOB_OWN_ARGUMENTS = {"--step", "--extra-py-files", "--additional-python-modules", "library-set",
                     "--job-language"}


def _rows():
    """(attribute, source, default) of every row of both tables."""
    defaults = {name: getattr(Settings(), name) for name, _ in sources(Settings)}
    out = [(name, source, defaults[name]) for name, source in sources(Settings)]
    stack = StackConfig.__dataclass_fields__
    out += [(name, source, stack[name].default) for name, source in sources(StackConfig)]
    return out


def _documented_rows():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            name = cells[0].strip("`")
            assert name not in rows, f"{name} is listed twice in docs/architecture.md"
            rows[name] = tuple(c.strip("`") for c in cells[1:4]) + (cells[4],)
    return rows


def test_the_architecture_page_lists_every_row_with_its_sources_and_default():
    rows = _rows()
    documented = _documented_rows()
    assert set(documented) == {name for name, _, _ in rows}
    for name, source, default in rows:
        env, key, glue, default_cell = documented[name]
        assert (env, key, glue) == (
            source.env or "", source.pulumi or "", f"--{source.glue}" if source.glue else ""
        ), name
        if default is not None:
            assert source.kind.encode(default) in default_cell, (name, default_cell)


def test_pulumi_yaml_documents_exactly_the_rows_with_a_stack_key_and_their_defaults():
    documented = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    keyed = [(name, source, default) for name, source, default in _rows() if source.pulumi]
    assert set(documented) == {source.pulumi for _, source, _ in keyed}
    assert {"archiveKeep", "partitionGranularity", "secretRecoveryWindowDays",
            "publishDeadline", "lambdaTimeout"} <= set(documented)
    for _name, source, default in keyed:
        spec = documented[source.pulumi]
        assert spec["type"] == source.kind.pulumi_type, source.pulumi
        expected = (source.pulumi_default if source.pulumi_default is not None
                    else source.kind.stack_value(default))
        assert spec["default"] == expected, source.pulumi
        assert len(spec["description"]) > 20, source.pulumi
    assert documented["partitionGranularity"]["default"] == "day"
    assert documented["archiveKeep"]["default"] == 7


def test_every_glue_job_gets_exactly_the_glue_rows_and_reads_back_the_stacks_settings(run):
    program = run(STACK_CONFIG)
    stack = load_stack_config(STACK_CONFIG.get, "dev").settings
    assert set(glue_entry.ARG_NAMES) == {"step", *GLUE_ARGUMENTS}
    assert {"partition_granularity", "archive_keep", "tickers"} <= set(GLUE_ARGUMENTS)
    jobs = program.of_type(JOB)
    assert jobs
    for job in jobs:
        args = job.inputs["defaultArguments"]
        assert set(args) == {f"--{name}" for name in GLUE_ARGUMENTS} | JOB_OWN_ARGUMENTS
        read = Settings.from_glue_args({k[2:]: v for k, v in args.items()}, home="/job")
        for name, source in sources(Settings):
            if source.glue and source.pulumi:
                assert getattr(read, name) == getattr(stack, name), (name, args)
        assert (read.tickers, read.partition_granularity, read.archive_keep) == (
            ("MSFT", "BRK.B"), "hour", 3)
