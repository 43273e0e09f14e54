"""The command table: every `stockpipe` sub-command, in the order `--help` lists them. A new
command is a `Command(...)` in one of these modules (or a new one added here)."""

from __future__ import annotations

from typing import Dict, Tuple

from . import catalog, pipeline, quarantine, schedule, status
from .base import Command

COMMANDS: Tuple[Command, ...] = (
    *pipeline.COMMANDS, *catalog.COMMANDS, *status.COMMANDS, *quarantine.COMMANDS,
    *schedule.COMMANDS
)
BY_NAME: Dict[str, Command] = {c.name: c for c in COMMANDS}

__all__ = ["BY_NAME", "COMMANDS", "Command"]
