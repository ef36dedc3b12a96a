"""Renderers: one module per output format; they format a report dict and run no queries."""

from __future__ import annotations


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
