"""llmcost: what your LLM traffic costs, and how to spend less.

The Python API (``llmcost.analyze``, ``llmcost.price``, ``llmcost.count_tokens``,
``llmcost.load_pricing``, ``llmcost.export_calls``, ``llmcost.calls``) lives in ``llmcost.api``
and is imported on first use, so ``import llmcost`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = (
    "Cost",
    "Report",
    "TokenCount",
    "UnpricedModelError",
    "analyze",
    "calls",
    "count_tokens",
    "export_calls",
    "load_pricing",
    "price",
)
__all__ = ["__version__", *_API]

if TYPE_CHECKING:
    from llmcost.api import (  # noqa: F401
        Cost,
        Report,
        TokenCount,
        UnpricedModelError,
        analyze,
        calls,
        count_tokens,
        export_calls,
        load_pricing,
        price,
    )


def __getattr__(name: str) -> Any:
    if name in _API:
        from llmcost import api

        return getattr(api, name)
    raise AttributeError(f"module 'llmcost' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
