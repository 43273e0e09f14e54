"""`stockpipe quarantine list|release`: the raw objects a run set aside because they cannot be
read (runtime/quarantine.py), and putting them back once fixed."""

from __future__ import annotations

import argparse
import json

from ..console import Console
from ..lock import home_lock
from ..parser import json_option
from .base import NONE, Command, lock_wait, settings_from


def _options(parser: argparse.ArgumentParser) -> None:
    from ..parser import common_options

    actions = parser.add_subparsers(dest="action", metavar="list|release")
    actions.required = True
    listing = actions.add_parser("list", help="the quarantined objects, with reason and time")
    release = actions.add_parser("release", help="move objects back into raw/ for the next run")
    release.add_argument("keys", nargs="*", metavar="KEY",
                         help="keys as `list` shows them (YYYY/MM/DD/HH/<name>)")
    release.add_argument("--all", action="store_true", help="every quarantined object")
    for sub in (listing, release):
        json_option(sub)
        common_options(sub)


def cmd_quarantine(args: argparse.Namespace, console: Console) -> int:
    from ...errors import ConfigError
    from ...quarantine import list_quarantined, quarantine_uri, release
    from ...storage import storage_for

    action, keys = args.action, getattr(args, "keys", [])
    settings = settings_from(args)
    storage = storage_for(settings.raw_uri, region=settings.aws_region)
    if action == "list":
        held = list_quarantined(settings, storage)
        if args.json:
            console.print(json.dumps({"quarantine": quarantine_uri(settings),
                                      "objects": [q.to_dict() for q in held]}))
            return 0
        if not held:
            console.print(f"no quarantined objects in {quarantine_uri(settings)}")
        for q in held:
            console.print(f"{q.key}  quarantined {q.quarantined_at or '-'} (run "
                          f"{q.run_id or '-'}): {q.reason}")
        return 0
    if bool(keys) == bool(args.all):
        raise ConfigError("`quarantine release` takes the KEYs to release, or --all")
    # Releasing writes raw/: not while a run reads it.
    with home_lock(settings.home, wait_seconds=lock_wait(args, 0.0), command="quarantine",
                   on_wait=lambda line: console.notice(f"stockpipe: {line}")):
        keys = [q.key for q in list_quarantined(settings, storage)] if args.all else keys
        released = release(settings, storage, keys)
    if args.json:
        console.print(json.dumps({"released": released}))
    else:
        for key in released:
            console.print(f"released {key} into {settings.raw_uri}; the next run reads it")
        if not released:
            console.print("nothing to release")
    return 0


COMMANDS = (
    Command(
        "quarantine", "list raw objects set aside as unreadable, or release them", cmd_quarantine,
        _options, lock=NONE, needs_home=True,
        description="A raw object the pipeline cannot read (not JSON records, a truncated or "
        "garbage object) is moved by the run that meets it to raw-quarantine/ beside raw/, "
        "with the reason; that run publishes nothing, the next one reads the rest. `list` shows "
        "them with the reason and time; `release KEY` (or --all) moves a fixed object back so "
        "the next run reads it.",
        examples=("stockpipe quarantine list", "stockpipe quarantine list --json",
                  "stockpipe quarantine release 2026/11/20/16/stockpipe-local-1-2026-11-20-16-00"
                  "-00-0a1b", "stockpipe quarantine release --all"),
    ),
)
