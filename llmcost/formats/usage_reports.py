"""Provider usage reports: AGGREGATES (N requests per time bucket), stored apart from calls.

Read as saved from the admin APIs (one page per file, pages one after another, or an array
of pages):

- OpenAI ``GET /v1/organization/usage/completions`` (and ``…/usage/embeddings``): a page
  ``{object: "page", data: [{start_time, end_time, results: [...]}]}`` whose results
  (``organization.usage.completions.result``) carry ``input_tokens`` (cache reads and
  writes included, the canonical convention), ``input_cached_tokens``,
  ``input_cache_write_tokens``, ``output_tokens``, the audio parts ``input_audio_tokens``
  (uncached), ``input_cached_audio_tokens``, ``output_audio_tokens`` (billed at the model's
  audio prices), ``num_model_requests`` and, when grouped
  by them, ``model``, ``project_id``, ``api_key_id``, ``batch``, ``service_tier``.
- OpenAI ``GET /v1/organization/costs``: ``organization.costs.result`` with
  ``amount: {value, currency}`` (in currency units) → reported cost.
- Anthropic ``GET /v1/organizations/usage_report/messages``: ``{data: [{starting_at,
  ending_at, results: [...]}]}`` with ``uncached_input_tokens``, ``cache_read_input_tokens``,
  ``cache_creation: {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}``,
  ``output_tokens`` (canonical input = the sum of the first three; no request count),
  ``server_tool_use.web_search_requests`` (billed per search) and ``context_window``
  ("0-200k", or above: every request of the bucket was priced at long-context rates).
- Anthropic ``GET /v1/organizations/cost_report``: ``amount`` is a decimal string in the
  currency's LOWEST unit (cents): "123.45" USD is $1.2345 → reported cost.

Each result becomes a row of ``usage_buckets`` (never of ``requests``: a bucket is not a
call); the adapter stages no call and counts every result as read and skipped ("stored as a
usage bucket"), so ingest accounting holds. A bucket already stored (same provider, kind,
start and content) is not stored twice. Results of other kinds (images, audio, vector
stores…) are skipped with their kind as the reason; a result with a token count that is not
a non-negative integer, or a bucket time that cannot be read, is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from llmcost.formats import FileFormat, register_format
from llmcost.formats.lines import MAX_LINE_BYTES, RAW_KEEP_CHARS, empty_stage, token_reason
from llmcost.formats.sql import install_macros
from llmcost.formats.stage import StageStats


@dataclass
class BucketStats(StageStats):
    buckets: int = 0  # results stored in usage_buckets (counted in skipped)


def _t(path: str) -> str:
    return f"json_extract_string(r, '{path}')"


_KIND = f"""CASE
    WHEN json_type(r) <> 'OBJECT' THEN NULL
    WHEN {_t("$.object")} = 'organization.usage.completions.result' THEN 'openai_completions'
    WHEN {_t("$.object")} = 'organization.usage.embeddings.result' THEN 'openai_embeddings'
    WHEN {_t("$.object")} = 'organization.costs.result' THEN 'openai_costs'
    WHEN {_t("$.object")} LIKE 'organization.%' THEN 'other:' || {_t("$.object")}
    WHEN json_exists(r, '$.uncached_input_tokens') THEN 'anthropic_usage'
    WHEN json_exists(r, '$.amount') AND (json_exists(r, '$.cost_type')
                                         OR json_exists(r, '$.currency')) THEN 'anthropic_cost'
  END"""

_BAD_TOKENS = token_reason(
    *(
        (key[2:], _t(key))
        for key in (
            "$.input_tokens",
            "$.input_cached_tokens",
            "$.input_cache_write_tokens",
            "$.output_tokens",
            "$.input_audio_tokens",
            "$.input_cached_audio_tokens",
            "$.output_audio_tokens",
            "$.num_model_requests",
            "$.uncached_input_tokens",
            "$.cache_read_input_tokens",
            "$.cache_creation_input_tokens",
            "$.cache_creation.ephemeral_5m_input_tokens",
            "$.cache_creation.ephemeral_1h_input_tokens",
            "$.server_tool_use.web_search_requests",
        )
    )
)

RESULTS_SQL = f"""
WITH pages AS (
  SELECT row_number() OVER () AS page_no, json AS page
  FROM read_json_objects(?, format = 'auto', maximum_object_size = {MAX_LINE_BYTES})
), buckets AS (
  SELECT page_no, generate_subscripts(l, 1) AS bucket_no, unnest(l) AS bucket
  FROM (SELECT page_no, json_extract(page, '$.data[*]') AS l FROM pages)
), results AS (
  SELECT page_no, bucket_no, bucket, generate_subscripts(l, 1) AS result_no, unnest(l) AS r
  FROM (SELECT *, json_extract(bucket, '$.results[*]') AS l FROM buckets)
), not_pages AS (
  SELECT page_no, 0 AS bucket_no, NULL AS bucket, 0 AS result_no, page AS r FROM pages
  WHERE json_type(page) <> 'OBJECT' OR json_type(page, '$.data') IS DISTINCT FROM 'ARRAY'
), everything AS (
  SELECT *, TRUE AS is_result FROM results
  UNION ALL SELECT *, FALSE FROM not_pages
), numbered AS (
  SELECT row_number() OVER (ORDER BY page_no, bucket_no, result_no) AS line, *,
    coalesce(json_extract_string(bucket, '$.start_time'),
             json_extract_string(bucket, '$.starting_at')) AS start_raw,
    coalesce(json_extract_string(bucket, '$.end_time'),
             json_extract_string(bucket, '$.ending_at')) AS end_raw,
    CASE WHEN is_result THEN {_KIND} END AS kind
  FROM everything
), f AS (
  SELECT *,
    llm_tok({_t("$.input_tokens")}) AS oa_in,
    llm_tok({_t("$.uncached_input_tokens")}) AS an_uncached,
    coalesce(llm_tok({_t("$.cache_read_input_tokens")}), 0) AS an_read,
    coalesce(llm_tok({_t("$.cache_creation.ephemeral_5m_input_tokens")}),
             llm_tok({_t("$.cache_creation_input_tokens")}), 0) AS an_write_5m,
    coalesce(llm_tok({_t("$.cache_creation.ephemeral_1h_input_tokens")}), 0) AS an_write_1h,
    coalesce(llm_tok({_t("$.input_audio_tokens")}), 0) AS oa_audio_in,
    coalesce(llm_tok({_t("$.input_cached_audio_tokens")}), 0) AS oa_audio_read
  FROM numbered
)
SELECT line, CAST(r AS VARCHAR) AS text, kind,
  CASE
    WHEN NOT is_result THEN NULL
    WHEN kind LIKE 'other:%'
      THEN substr(kind, 7) || ' is not token usage (not stored)'
  END AS skip_reason,
  CASE
    WHEN NOT is_result THEN 'not a usage or cost report page (no data array)'
    WHEN kind IS NULL THEN 'not a known usage or cost report result'
    WHEN {_BAD_TOKENS} IS NOT NULL THEN {_BAD_TOKENS}
    WHEN llm_ts_fault(start_raw, llm_ts(start_raw)) IS NOT NULL
      THEN 'bucket start time ' || llm_ts_fault(start_raw, llm_ts(start_raw))
    -- (a bucket needs a start: one not set, 0, is rejected as a missing one is)
    WHEN llm_ts(start_raw) IS NULL
      THEN 'bucket start time ' || coalesce('not set: ' || left(start_raw, 40), 'missing')
    ELSE 'bucket end time ' || llm_ts_fault(end_raw, llm_ts(end_raw))
  END AS reject_reason,
  md5(concat_ws('|', kind, start_raw, CAST(r AS VARCHAR))) AS bucket_id,
  llm_ts(start_raw) AS bucket_start,
  llm_ts(end_raw) AS bucket_end,
  CASE WHEN kind LIKE 'openai%' THEN 'openai' ELSE 'anthropic' END AS provider,
  llm_blank({_t("$.model")}) AS model,
  llm_blank({_t("$.project_id")}) AS project_id,
  llm_blank({_t("$.api_key_id")}) AS api_key_id,
  llm_blank({_t("$.workspace_id")}) AS workspace_id,
  CASE WHEN {_t("$.batch")} = 'true' THEN 'batch' ELSE llm_tier({_t("$.service_tier")}) END
    AS service_tier,
  CASE WHEN kind LIKE 'openai_%' AND kind <> 'openai_costs'
       THEN llm_tok({_t("$.num_model_requests")}) END AS requests,
  CASE kind WHEN 'openai_completions' THEN oa_in
            WHEN 'openai_embeddings' THEN oa_in
            WHEN 'anthropic_usage' THEN an_uncached + an_read + an_write_5m + an_write_1h
  END AS input_tokens,
  CASE kind WHEN 'openai_completions' THEN coalesce(llm_tok({_t("$.input_cached_tokens")}), 0)
            WHEN 'anthropic_usage' THEN an_read END AS cache_read_tokens,
  CASE kind WHEN 'openai_completions'
                 THEN coalesce(llm_tok({_t("$.input_cache_write_tokens")}), 0)
            WHEN 'anthropic_usage' THEN an_write_5m END AS cache_write_tokens,
  CASE kind WHEN 'anthropic_usage' THEN an_write_1h END AS cache_write_1h_tokens,
  CASE kind WHEN 'openai_completions' THEN coalesce(llm_tok({_t("$.output_tokens")}), 0)
            WHEN 'openai_embeddings' THEN 0
            WHEN 'anthropic_usage' THEN coalesce(llm_tok({_t("$.output_tokens")}), 0)
  END AS output_tokens,
  CASE
    WHEN kind = 'openai_costs' AND lower(coalesce({_t("$.amount.currency")}, 'usd')) = 'usd'
      THEN TRY_CAST({_t("$.amount.value")} AS DOUBLE)
    WHEN kind = 'anthropic_cost' AND upper(coalesce({_t("$.currency")}, 'USD')) = 'USD'
      THEN TRY_CAST({_t("$.amount")} AS DOUBLE) / 100
  END AS reported_cost_usd,
  CASE kind WHEN 'anthropic_usage'
    THEN coalesce(llm_tok({_t("$.server_tool_use.web_search_requests")}), 0)
  END AS web_search_requests,
  CASE kind WHEN 'anthropic_usage' THEN llm_blank({_t("$.context_window")}) END
    AS context_window,
  CASE kind WHEN 'anthropic_usage' THEN lower(llm_blank(trim({_t("$.inference_geo")}))) END
    AS inference_geo,
  CASE kind WHEN 'anthropic_usage' THEN lower(llm_blank(trim({_t("$.speed")}))) END AS speed,
  -- OpenAI's input_audio_tokens are the UNCACHED audio: the canonical audio input (part of
  -- input_tokens) is it plus the cached audio (part of the cache reads)
  CASE kind WHEN 'openai_completions' THEN oa_audio_in + oa_audio_read END AS input_audio_tokens,
  CASE kind WHEN 'openai_completions' THEN oa_audio_read END AS cache_read_audio_tokens,
  CASE kind WHEN 'openai_completions' THEN coalesce(llm_tok({_t("$.output_audio_tokens")}), 0)
  END AS output_audio_tokens
FROM f
"""


def load_usage_report(con, path: Path, source: str, ingest_id: int) -> BucketStats:
    """Store the report's results in ``usage_buckets``; stage no call."""
    # Parsed on a scratch connection: an unreadable document must not abort the ingest's
    # transaction on ``con`` (reports are small; the rows travel as Arrow).
    scratch = duckdb.connect()
    try:
        install_macros(scratch)
        parsed = scratch.sql(RESULTS_SQL, params=[str(path)]).pl()  # noqa: F841 - read below
    except duckdb.Error as exc:
        with path.open("rb") as fh:
            raw = fh.read(RAW_KEEP_CHARS).decode("utf-8", "replace")
        reason = f"not a readable JSON document: {str(exc).splitlines()[0][:200]}"
        con.execute("INSERT INTO rejects VALUES (?, ?, 1, ?, ?)", [ingest_id, source, reason, raw])
        empty_stage(con, source, "usage-report")
        return BucketStats(lines_read=1, rejected=1)
    finally:
        scratch.close()
    con.execute("DROP TABLE IF EXISTS report_rows")
    con.execute("CREATE TEMP TABLE report_rows AS SELECT * FROM parsed")
    con.execute(
        """INSERT INTO usage_buckets
        SELECT bucket_id, bucket_start, bucket_end, provider, model, project_id, api_key_id,
          workspace_id, service_tier, requests, input_tokens, cache_read_tokens,
          cache_write_tokens, cache_write_1h_tokens, output_tokens, reported_cost_usd,
          ?, line, 'usage-report', ?, web_search_requests, context_window, inference_geo, speed,
          input_audio_tokens, cache_read_audio_tokens, output_audio_tokens
        FROM report_rows r
        WHERE skip_reason IS NULL AND reject_reason IS NULL
          AND NOT EXISTS (SELECT 1 FROM usage_buckets b WHERE b.bucket_id = r.bucket_id)
        QUALIFY row_number() OVER (PARTITION BY bucket_id ORDER BY line) = 1""",
        [source, ingest_id],
    )
    con.execute(
        f"""INSERT INTO rejects
        SELECT ?, ?, line, reject_reason, left(text, {RAW_KEEP_CHARS}) FROM report_rows
        WHERE skip_reason IS NULL AND reject_reason IS NOT NULL""",
        [ingest_id, source],
    )
    read, rejected = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE skip_reason IS NULL AND reject_reason IS NOT NULL)
           FROM report_rows"""
    ).fetchone()
    stored = con.execute(
        "SELECT count(*) FROM usage_buckets WHERE ingest_id = ? AND source = ?", [ingest_id, source]
    ).fetchone()[0]
    con.execute("DROP TABLE report_rows")
    empty_stage(con, source, "usage-report")
    return BucketStats(lines_read=read, skipped=read - rejected, rejected=rejected, buckets=stored)


_MARKERS = (
    b'"organization.usage.',
    b'"organization.costs.result"',
    b'"uncached_input_tokens"',
)


def _sniff(head: bytes, path: Path) -> bool:
    if any(marker in head for marker in _MARKERS):
        return True
    # An Anthropic cost report: {data: [{starting_at, results: [{amount, cost_type, …}]}]}
    return b'"starting_at"' in head and b'"amount"' in head and b'"cost_type"' in head


register_format(
    FileFormat(
        name="usage-report",
        description="provider usage/cost reports (OpenAI organization usage & costs, Anthropic "
        "usage_report & cost_report): aggregates, stored as usage buckets, not calls",
        recognized_by='"organization.usage.…" / "organization.costs.result" results, or '
        '"uncached_input_tokens" / "cost_type" in an Anthropic report',
        sniff=_sniff,
        load=load_usage_report,
        priority=20,
    )
)
