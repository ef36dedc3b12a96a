"""Short, redacted previews of log text for reports: no secrets, e-mails or long numbers."""

import re

_PATTERNS = [
    (re.compile(r"\b(sk|pk|rk|ak)[-_][A-Za-z0-9_\-]{12,}\b"), "[key]"),
    (re.compile(r"\bBearer\s+[A-Za-z0-9._\-]{12,}"), "Bearer [key]"),
    (re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"), "[email]"),
    (re.compile(r"\+?\d[\d \-().]{7,}\d"), "[number]"),
    (re.compile(r"\b[A-Fa-f0-9]{32,}\b"), "[hex]"),
]


def preview(text: str | None, width: int = 80) -> str | None:
    """One line of at most ``width`` characters, with secrets and personal data masked."""
    if text is None:
        return None
    line = " ".join(text[: width * 4].split())  # only the start is shown: redact only that
    for pattern, replacement in _PATTERNS:
        line = pattern.sub(replacement, line)
    return line if len(line) <= width else line[: width - 1] + "…"
