"""llmcost: what your LLM traffic costs, and how to spend less."""

__version__ = "0.1.0"
