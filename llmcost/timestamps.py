"""A time the user types (``--since``, ``--until``, ``--now``, the Python API's ``since`` and
``until``), read by the rule a log's time is read by: ``llm_ts_iso``, the SQL macro every
reader uses (formats/sql.py). One parser, so a time copied from a log is read as the log's
was: ``2026-11-28T10:00:00,5Z`` (a comma decimal), ``23:59:60`` (a leap second),
``20261128T103000Z`` (the basic format), ``10:00,5`` (10:00:30, not 10:00:00.5), a space for
the ``T``. Only a number is not a typed time: in a log it is epoch seconds, and a date
without dashes typed as ``20261128`` would be one of 1970.

A time without an offset, and a date (its midnight), is read in the zone the caller gives
(``report``'s ``--tz``; UTC elsewhere), as a log's is read in UTC: it is told by reading the
text in two zones, which give two instants only when it has no offset of its own.
"""

from __future__ import annotations

import datetime as dt
import threading
from functools import cache

from llmcost.errors import UsageError

UTC = dt.timezone.utc
# The two zones a text is read in: 14 hours apart, so a text without an offset is two
# instants, one with an offset (Z, +02:00, ' Europe/Paris') the same one.
_ZONES = ("UTC", "Etc/GMT-14")


_lock = threading.Lock()  # the reader's one connection, for a caller that reads from threads


@cache
def _reader():
    """An in-memory DuckDB with the readers' macros (temporary: the connection's own)."""
    import duckdb

    from llmcost.formats.sql import install_macros

    con = duckdb.connect()
    install_macros(con)
    return con


def _read(con, text: str, zone: str):
    """``llm_ts_iso`` of ``text`` with ``zone`` as the session's: an aware datetime, or
    None (not a time, or one outside Python's years 1-9999: 99999-01-01, 'infinity')."""
    con.execute(f"SET TimeZone = '{zone}'")  # (one of _ZONES: no user text in SQL)
    [(when,)] = con.execute(
        """SELECT CASE WHEN TRY_CAST(trim(?) AS DOUBLE) IS NULL AND isfinite(t)
                         AND year(t) BETWEEN 1 AND 9999 THEN t END
           FROM (SELECT llm_ts_iso(trim(?)) AS t)""",
        [text, text],
    ).fetchall()
    return when


def read_time(text: str, option: str, zone: dt.tzinfo = UTC) -> dt.datetime:
    """``text`` as an aware UTC datetime; one without an offset is read in ``zone`` (a date:
    its first instant, the way periods.midnight reads it). UsageError (exit 2), naming
    ``option``, when it is not a time."""
    with _lock:
        at_utc, at_east = (_read(_reader(), text, z) for z in _ZONES)
    if at_utc is None or at_east is None:
        number = text.strip().replace(".", "", 1).lstrip("+-").isdigit()
        raise UsageError(
            f"{option} {text!r} is not a date or time"
            + (" (a number is not read as one: in a log it is epoch seconds)" if number else ""),
            hint=f"use ISO 8601, as in the logs: e.g. {option} 2026-11-01, 2026-11-01T12:00 "
            "or 2026-11-01T12:00:00+02:00",
        )
    if at_utc == at_east:  # an offset of its own
        return at_utc.astimezone(UTC)
    # (fold=0: a time a zone skips, or has twice, is read with the offset in force before)
    return at_utc.replace(tzinfo=None).replace(tzinfo=zone).astimezone(UTC)
