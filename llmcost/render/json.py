"""JSON: exactly one object on stdout (the contract in DESIGN.md)."""

from __future__ import annotations

import json


def render(report: dict) -> str:
    return json.dumps(report, indent=2, default=str, ensure_ascii=False) + "\n"
