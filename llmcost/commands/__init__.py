"""CLI commands beyond ``analyze``: each module here has ``register(app)``.

Modules import their heavy dependencies inside the command functions, so that building
the app (``llmcost --help``) stays fast.
"""

from __future__ import annotations

import importlib
import inspect

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
    _one_line_summaries(app)


def _one_line_summaries(app) -> None:
    """`llmcost --help` lists a command by its docstring's first paragraph, but Typer's Rich
    mode keeps that paragraph's line breaks ("compared with the one" / "before it"): the
    list gets it as one line, wrapped to the screen (in command groups too)."""
    for info in app.registered_commands:
        doc = info.help or inspect.getdoc(info.callback) or ""
        if info.short_help is None and "\n" in doc.split("\n\n")[0]:
            info.short_help = " ".join(doc.split("\n\n")[0].split())
    for group in app.registered_groups:
        _one_line_summaries(group.typer_instance)
