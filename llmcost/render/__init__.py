"""Renderers: one module per output format; they format a report dict and run no queries."""

from __future__ import annotations

import os


def money(value: float | None) -> str:
    """Dollars for people: cents for most amounts, more digits for tiny ones."""
    if value is None:
        return "—"
    if value == 0:
        return "$0.00"
    if abs(value) < 0.01:
        return f"${value:.4f}" if abs(value) >= 0.0001 else f"${value:.6f}"
    return f"${value:,.2f}"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def short_paths(paths) -> dict[str, str]:
    """Each path as short as it stays unambiguous among ``paths``: its file name when no
    other path has that name, else relative to the working directory when under it, else
    as it is."""
    paths = {p for p in paths if p}
    names: dict[str, int] = {}
    for p in paths:
        name = p.rsplit("/", 1)[-1]
        names[name] = names.get(name, 0) + 1
    cwd = os.getcwd().rstrip("/") + "/"
    out = {}
    for p in paths:
        name = p.rsplit("/", 1)[-1]
        if names[name] == 1:
            out[p] = name
        else:
            out[p] = p[len(cwd) :] if p.startswith(cwd) else p
    return out
