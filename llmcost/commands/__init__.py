"""CLI commands beyond ``analyze``: each module here has ``register(app)``.

Modules import their heavy dependencies inside the command functions, so that building
the app (``llmcost --help``) stays fast.
"""

from __future__ import annotations

import importlib

COMMAND_MODULES: list[str] = [
    "llmcost.commands.ingest",
    "llmcost.commands.check",
    "llmcost.commands.diff",
    "llmcost.commands.report",
    "llmcost.commands.export",
    "llmcost.commands.pricing",
    "llmcost.commands.audit",
    "llmcost.commands.tokens",
]


def register_all(app) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
