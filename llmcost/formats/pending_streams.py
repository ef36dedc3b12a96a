"""OpenAI streams logged chunk by chunk, made calls once a file is read.

A stream is one call, its answer in all of its chunks' pieces (text, then each tool call's
arguments) and its finish reason in the chunk that gave one. Its usage chunk
(``stream_options.include_usage``: the last chunk, ``choices: []``) becomes the call, with
its counts; without one (include_usage is off by default) it is still a billed call: its
last chunk becomes the call, its tokens unknown (the answer is counted; the prompt is not
in the chunks). A file is read in chunks of lines (ingest.chunk_bytes, 128 MB): a stream
can have chunks on both sides of a cut, so each chunk's stream chunks are kept here
(``collect``) and the calls made when the whole file is read (``finish``), from all of
their pieces. A stream whose call is stored by then (an earlier ingest) makes none.

A file that a later ingest goes on with (``ingest`` into a database, from cron) may end in
the middle of a stream its writer is still writing: made a call now, it would be cut (its
answer, its usage chunk to come). Such a stream (no usage chunk, no chunk with a
finish_reason or that chunk the file's last line, and no call stored) is held (``hold``): no call is made, and the file's place is kept before its first
chunk, so the next ingest reads it again, whole. It is held while it may go on: a stream
with no new chunk for SILENCE (no chunk after the last line an ingest that ran that long
ago had read) is over, and is made a call as it stands, as a one-shot run makes it.
"""

from __future__ import annotations

import datetime as dt

from llmcost.formats.openai import STREAM_USAGE
from llmcost.formats.stage import StageStats

# How long a stream may go without a new chunk and still go on: the OpenAI SDKs give up on
# a response after 600 s without a byte (their default timeout). A reasoning model can be
# silent for minutes before its first words, longer than a cron job's period.
SILENCE = dt.timedelta(minutes=10)

# every stream chunk: (request_id, line, piece, tools, finish_reason): its text, its
# tool-call deltas and the finish reason it gave
PIECES = "pending_stream_pieces"
# each chunk of a file's row of each stream that may become its call, whole: its usage
# chunk, or its last row
LASTS = "pending_stream_lasts"
# of the rows of a stream, the one that becomes its call first
_CALL_FIRST = f"(skip_reason = '{STREAM_USAGE}') DESC, line DESC"


def collect(con, skip_reasons: tuple[str, ...]) -> None:
    """Keep the stream chunks of ``staged_all`` (the rows skipped as ``skip_reasons``)."""
    reasons = ", ".join(f"'{r}'" for r in skip_reasons)
    chunks = f"FROM staged_all WHERE skip_reason IN ({reasons}) AND request_id IS NOT NULL"
    pieces = (
        "SELECT request_id, line, coalesce(json_extract_string(stream_delta, '$.content'), '') "
        "AS piece, json_extract(stream_delta, '$.tool_calls') AS tools, finish_reason"
    )
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {PIECES} AS {pieces} FROM staged_all LIMIT 0")
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {LASTS} AS SELECT * FROM staged_all LIMIT 0")
    con.execute(f"INSERT INTO {PIECES} {pieces} {chunks}")
    con.execute(
        f"""INSERT INTO {LASTS} BY NAME SELECT * {chunks}
            QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY {_CALL_FIRST}) = 1"""
    )


def discard(con) -> None:
    for name in (PIECES, LASTS):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _kept(con) -> bool:
    """Stream chunks were kept since ``discard``."""
    return bool(
        con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ?"
            " AND table_schema = 'main' AND table_catalog = 'temp'",
            [LASTS],
        ).fetchall()
    )


def hold(con, settled: int, last_line: int) -> tuple[int, int] | None:
    """Leave out of ``finish`` the streams kept that may go on (no call stored, no usage
    chunk, and no chunk with a finish_reason, or that chunk is the file's last line
    ``last_line``: its usage chunk, with ``stream_options.include_usage``, comes next) and
    have a chunk after line ``settled`` (read by an ingest at least SILENCE ago); returns
    how many, and the line of the first of their chunks (None: none held)."""
    if not _kept(con):
        return None
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE pending_stream_held AS
        SELECT request_id FROM {LASTS} l
        WHERE NOT EXISTS (SELECT 1 FROM requests x WHERE x.request_id = l.request_id)
        GROUP BY request_id
        HAVING count(*) FILTER (WHERE skip_reason = '{STREAM_USAGE}') = 0
          AND (count(finish_reason) = 0 OR max(line) = ?) AND max(line) > ?""",
        [last_line, settled],
    )
    held, first = con.execute(
        f"""SELECT count(*), (SELECT min(line) FROM {PIECES}
                              WHERE request_id IN (SELECT request_id FROM pending_stream_held))
        FROM pending_stream_held"""
    ).fetchone()
    for name in (PIECES, LASTS):
        con.execute(
            f"DELETE FROM {name} WHERE request_id IN (SELECT request_id FROM pending_stream_held)"
        )
    con.execute("DROP TABLE pending_stream_held")
    return (held, first) if held else None


def finish(con, source: str, ingest_id: int, format: str) -> StageStats | None:
    """Stage the calls of the streams kept since ``discard`` (None: there were none), as
    ``staged``, and reject those with a reason to (their lines were counted as skipped:
    the stats move them)."""
    if not _kept(con):
        return None
    from llmcost.formats.jsonl import stage_staged_all  # (not on import: it registers formats)

    # The call: its usage chunk, else its last chunk. The answer: the text pieces, then each
    # tool call's arguments (its pieces joined, in the order of the calls' index), as the
    # readers keep a whole answer's calls. The finish reason: the last one a chunk gave (the
    # usage chunk gives none); an answer with tool calls reads 'tool_calls' (a forced tool
    # choice ends with 'stop').
    con.execute(
        f"""CREATE TEMP TABLE staged_all AS
        WITH calls AS (
          SELECT request_id, idx, string_agg(arguments, '' ORDER BY line, k) AS arguments
          FROM (SELECT request_id, line, k,
                       json_extract_string(tools, '$[' || k || '].index') AS idx,
                       json_extract_string(tools, '$[' || k || '].function.arguments')
                         AS arguments
                FROM (SELECT request_id, line, tools,
                             unnest(range(CAST(json_array_length(tools) AS BIGINT))) AS k
                      FROM {PIECES} WHERE json_array_length(tools) > 0))
          GROUP BY request_id, idx
        ), tools AS (
          SELECT request_id, string_agg(arguments, '' ORDER BY TRY_CAST(idx AS INTEGER), idx)
                   AS arguments
          FROM calls GROUP BY request_id
        ), s AS (
          SELECT request_id, string_agg(piece, '' ORDER BY line) AS text,
                 arg_max(finish_reason, line) FILTER (WHERE finish_reason IS NOT NULL)
                   AS finish_reason
          FROM {PIECES} GROUP BY request_id
        ), l AS (
          SELECT * FROM {LASTS}
          QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY {_CALL_FIRST}) = 1
        )
        SELECT l.* REPLACE (CAST(NULL AS VARCHAR) AS skip_reason,
                            s.text || coalesce(t.arguments, '') AS completion_text,
                            md5(s.text || coalesce(t.arguments, '')) AS completion_hash,
                            CASE WHEN t.request_id IS NOT NULL THEN 'tool_calls'
                                 ELSE s.finish_reason END AS finish_reason)
        FROM l JOIN s ON s.request_id = l.request_id
          LEFT JOIN tools t ON t.request_id = l.request_id
        WHERE NOT EXISTS (SELECT 1 FROM requests x WHERE x.request_id = l.request_id)"""
    )
    discard(con)
    staged, rejected = stage_staged_all(con, ingest_id, source, format)
    naive = con.execute("SELECT count(*) FROM staged WHERE naive_ts").fetchone()[0]
    return StageStats(0, -(staged + rejected), staged, rejected, naive)
