"""The GitHub workflows: tests on every push, `pulumi preview` commented on pull requests."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def _load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def test_tests_run_with_make_test_on_every_push():
    doc = _load("test.yml")
    assert "push" in doc["on"]
    steps = doc["jobs"]["test"]["steps"]
    assert {"run": "make test"} in steps


def test_preview_runs_pulumi_preview_and_comments_on_the_pull_request():
    doc = _load("preview.yml")
    assert set(doc["on"]) == {"pull_request"}
    job = doc["jobs"]["preview"]
    assert doc["permissions"]["id-token"] == "write"
    (pulumi_step,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi_step["uses"] == "pulumi/actions@v6"
    assert pulumi_step["with"]["command"] == "preview"
    assert pulumi_step["with"]["comment-on-pr"] is True
    assert pulumi_step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    (aws_step,) = [s for s in job["steps"]
                   if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    assert aws_step["with"]["role-to-assume"] == "${{ secrets.AWS_PREVIEW_ROLE_ARN }}"
    # The wheelhouse must exist before the program builds the Lambda package.
    runs = [s.get("run") for s in job["steps"]]
    assert runs.index("components/fetch_wheels.sh") < job["steps"].index(pulumi_step)
