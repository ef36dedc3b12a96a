"""Usage normalization: each provider's token fields → the canonical columns.

Canonical (DESIGN.md): ``input_tokens`` holds ALL input (cache reads and writes included),
``output_tokens`` ALL output (reasoning included). The providers disagree:

- OpenAI Chat: ``prompt_tokens`` already includes ``prompt_tokens_details.cached_tokens``
  and ``prompt_tokens_details.cache_write_tokens``; ``completion_tokens`` includes
  ``completion_tokens_details.reasoning_tokens``. Gateways (LiteLLM proxy and SDK) answer
  for Claude with these keys plus Anthropic's ``cache_read_input_tokens`` /
  ``cache_creation_input_tokens``; whether the writes are inside ``prompt_tokens`` depends
  on the version, told by the macro ``llm_prompt_input`` (formats/sql.py, the rule the
  LiteLLM adapter uses). DeepSeek calls the reads ``prompt_cache_hit_tokens``.
- OpenAI Responses: same, as ``input_tokens``/``input_tokens_details.cached_tokens``/
  ``input_tokens_details.cache_write_tokens`` and
  ``output_tokens``/``output_tokens_details.reasoning_tokens``. The Realtime API writes
  ``input_token_details`` / ``output_token_details`` (singular ``token``).
- Audio (billed at audio prices): OpenAI's ``prompt_tokens_details.audio_tokens`` and
  ``completion_tokens_details.audio_tokens`` (inside prompt/completion), the Realtime API's
  ``input_token_details.audio_tokens`` with its cached part
  ``input_token_details.cached_tokens_details.audio_tokens``, and
  ``output_token_details.audio_tokens``; Gemini's AUDIO entries of
  ``promptTokensDetails`` / ``cacheTokensDetails`` / ``candidatesTokensDetails``.
- Anthropic: ``input_tokens`` EXCLUDES ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens`` (we add them); the 1-hour part of the writes is
  ``cache_creation.ephemeral_1h_input_tokens``. ``output_tokens`` includes thinking.
- Gemini (REST names, or the google-genai SDK's snake_case ``prompt_token_count`` …):
  ``promptTokenCount`` includes ``cachedContentTokenCount``;
  ``thoughtsTokenCount`` is NOT inside ``candidatesTokenCount`` (we add it to output);
  ``toolUsePromptTokenCount`` is billed as input on top of the prompt (we add it).
- Generic/flat keys (``input_tokens``, ``cache_read_tokens``, ``cache_write_tokens``,
  ``reasoning_tokens`` …) follow the canonical convention already.

Each style is a set of SQL expressions over ``u_tok``: the counts of the usage object ``u``
at every path the styles read (``tokens_sql``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsageStyle:
    name: str
    input: str
    output: str
    cache_read: str = "NULL"
    cache_write: str = "NULL"
    cache_write_1h: str = "NULL"
    reasoning: str = "NULL"
    web_search: str = "NULL"  # server-side web searches billed per search
    # the audio parts of input, of the cache reads and of output (billed at audio prices)
    input_audio: str = "NULL"
    cache_read_audio: str = "NULL"
    output_audio: str = "NULL"
    keys: tuple[str, ...] = ()  # JSON paths whose values must be non-negative integers


# Strings a usage object may carry beside its counts: where the call ran and whether it ran
# in fast mode (Anthropic's price modifiers), the service tier (Anthropic writes it there),
# and Gemini's counts by modality (JSON lists, REST and SDK names).
_STRINGS = (
    "$.inference_geo", "$.speed", "$.service_tier",
    "$.promptTokensDetails", "$.prompt_tokens_details",
    "$.cacheTokensDetails", "$.cache_tokens_details",
    "$.candidatesTokensDetails", "$.candidates_tokens_details",
)  # fmt: skip


_G_LISTS = _STRINGS[3:]  # Gemini's modality lists (their counts checked by bad_field_sql)


def usage_string_sql(path: str, raw: str = "u_raw") -> str:
    """The string at ``path`` (one of ``_STRINGS``) of the usage object, from ``raw``."""
    return f"{raw}[{_STRINGS.index(path) + 1}]"


# Every path a style reads, in the order first read: the usage object is parsed once per
# record for all of them (``tokens_sql``), and a style reads its counts from that list.
_PATHS: list[str] = []


def _t(path: str) -> str:
    """The count at ``path`` of the usage object (NULL when absent or not a count)."""
    if path not in _PATHS:
        _PATHS.append(path)
    return f"u_tok[{_PATHS.index(path) + 1}]"


# (DeepSeek's own names for the reads: prompt_cache_hit_tokens, with
# prompt_cache_miss_tokens the rest of prompt_tokens; not every answer has OpenAI's too)
_C_READ = f"coalesce({_t('$.prompt_tokens_details.cached_tokens')}, "
_C_READ += f"{_t('$.cache_read_input_tokens')}, {_t('$.prompt_cache_hit_tokens')})"
# (LiteLLM also writes the writes as prompt_tokens_details.cache_creation_tokens and their
# 1-hour part under cache_creation_token_details: formats/litellm.py reads the same paths)
_C_WRITE = f"coalesce({_t('$.prompt_tokens_details.cache_write_tokens')}, "
_C_WRITE += f"{_t('$.cache_creation_input_tokens')}, "
_C_WRITE += f"{_t('$.prompt_tokens_details.cache_creation_tokens')})"
_C_WRITE_1H = "coalesce(" + _t(
    "$.prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens"
)
_C_WRITE_1H += f", {_t('$.cache_creation.ephemeral_1h_input_tokens')})"
_C_REASONING = _t("$.completion_tokens_details.reasoning_tokens")
_C_AUDIO_IN, _C_AUDIO_OUT = (
    "$.prompt_tokens_details.audio_tokens",
    "$.completion_tokens_details.audio_tokens",
)
OPENAI_CHAT = UsageStyle(
    name="openai_chat",
    input=f"llm_prompt_input({_t('$.prompt_tokens')}, {_C_READ}, {_C_WRITE})",
    output=f"llm_completion_output({_t('$.completion_tokens')}, {_C_REASONING})",
    cache_read=_C_READ,
    cache_write=f"CASE WHEN {_C_WRITE} IS NOT NULL "
    f"THEN greatest({_C_WRITE} - coalesce({_C_WRITE_1H}, 0), 0) END",
    cache_write_1h=_C_WRITE_1H,
    reasoning=_C_REASONING,
    # a gateway's Claude answer in OpenAI's shape keeps Anthropic's searches (LiteLLM's Usage)
    web_search=_t("$.server_tool_use.web_search_requests"),
    # (the cached tokens are not broken down by modality here: the audio is taken uncached)
    input_audio=_t(_C_AUDIO_IN),
    output_audio=_t(_C_AUDIO_OUT),
    keys=(
        _C_AUDIO_IN,
        _C_AUDIO_OUT,
        "$.prompt_tokens",
        "$.completion_tokens",
        "$.total_tokens",
        "$.prompt_tokens_details.cached_tokens",
        "$.prompt_tokens_details.cache_write_tokens",
        "$.completion_tokens_details.reasoning_tokens",
        "$.cache_read_input_tokens",
        "$.prompt_cache_hit_tokens",
        "$.prompt_cache_miss_tokens",
        "$.cache_creation_input_tokens",
        "$.prompt_tokens_details.cache_creation_tokens",
        "$.prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens",
        "$.cache_creation.ephemeral_1h_input_tokens",
    ),
)

# The Realtime API (and the audio transcription models) write the details as
# input_token_details / output_token_details, with the cached part broken down by modality
# (input_token_details.cached_tokens_details.audio_tokens).
_R_AUDIO = (
    "$.input_token_details.audio_tokens",
    "$.input_token_details.cached_tokens_details.audio_tokens",
    "$.output_token_details.audio_tokens",
)
OPENAI_RESPONSES = UsageStyle(
    name="openai_responses",
    input=_t("$.input_tokens"),
    output=_t("$.output_tokens"),
    cache_read=f"coalesce({_t('$.input_tokens_details.cached_tokens')}, "
    f"{_t('$.input_token_details.cached_tokens')})",
    cache_write=_t("$.input_tokens_details.cache_write_tokens"),
    reasoning=_t("$.output_tokens_details.reasoning_tokens"),
    input_audio=_t(_R_AUDIO[0]),
    cache_read_audio=_t(_R_AUDIO[1]),
    output_audio=_t(_R_AUDIO[2]),
    keys=(
        "$.input_tokens",
        "$.output_tokens",
        "$.total_tokens",
        "$.input_tokens_details.cached_tokens",
        "$.input_token_details.cached_tokens",
        "$.input_tokens_details.cache_write_tokens",
        "$.output_tokens_details.reasoning_tokens",
        *_R_AUDIO,
    ),
)

_A_READ = "coalesce(" + _t("$.cache_read_input_tokens") + ", 0)"
# The writes: cache_creation_input_tokens (the 5m and 1h writes together), else the sum of
# the cache_creation breakdown (both optional in the API's Usage type: a usage with only
# the breakdown still wrote those tokens).
_A_5M, _A_1H = (
    _t("$.cache_creation.ephemeral_5m_input_tokens"),
    _t("$.cache_creation.ephemeral_1h_input_tokens"),
)
_A_WRITES = f"coalesce({_t('$.cache_creation_input_tokens')}, CASE WHEN {_A_5M} IS NOT NULL "
_A_WRITES += f"OR {_A_1H} IS NOT NULL THEN coalesce({_A_5M}, 0) + coalesce({_A_1H}, 0) END)"
_A_WRITE = f"coalesce({_A_WRITES}, 0)"
_A_WRITE_1H = f"coalesce({_A_1H}, 0)"
ANTHROPIC = UsageStyle(
    name="anthropic",
    input=f"({_t('$.input_tokens')} + {_A_READ} + {_A_WRITE})",
    output=_t("$.output_tokens"),
    cache_read=_t("$.cache_read_input_tokens"),
    # the writes are 5m and 1h writes together; keep the two apart.
    cache_write=f"CASE WHEN {_A_WRITES} IS NULL THEN NULL "
    f"ELSE greatest({_A_WRITE} - {_A_WRITE_1H}, 0) END",
    cache_write_1h=_t("$.cache_creation.ephemeral_1h_input_tokens"),
    reasoning=_t("$.output_tokens_details.thinking_tokens"),
    web_search=_t("$.server_tool_use.web_search_requests"),
    keys=(
        "$.input_tokens",
        "$.output_tokens",
        "$.server_tool_use.web_search_requests",
        "$.cache_read_input_tokens",
        "$.cache_creation_input_tokens",
        "$.cache_creation.ephemeral_5m_input_tokens",
        "$.cache_creation.ephemeral_1h_input_tokens",
    ),
)


def _g_names(camel: str) -> tuple[str, str]:
    """A Gemini count's paths: its REST name (``promptTokenCount``) and the name the
    google-genai SDK's ``model_dump()`` writes (``prompt_token_count``)."""
    return "$." + camel, "$." + "".join("_" + c.lower() if c.isupper() else c for c in camel)


def _g(camel: str) -> str:
    rest, sdk = _g_names(camel)
    return f"coalesce({_t(rest)}, {_t(sdk)})"


_G_COUNTS = (
    "promptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "cachedContentTokenCount",
    "totalTokenCount",
    "toolUsePromptTokenCount",
)
_G_THOUGHTS = "coalesce(" + _g("thoughtsTokenCount") + ", 0)"
_G_TOOL = "coalesce(" + _g("toolUsePromptTokenCount") + ", 0)"
# Gemini breaks counts down by modality in lists ([{modality: AUDIO, tokenCount: 120}, …]):
# the lists' JSON texts come from the one parse of the usage object (``_STRINGS``, in the
# column ``u_raw``), and only a Gemini usage that has one parses that short text again.
_MODALITIES = '[{"modality": "VARCHAR", "tokenCount": "VARCHAR", "token_count": "VARCHAR"}]'


def _g_audio(camel: str) -> str:
    """The AUDIO count of a Gemini modality list (NULL when the list is absent)."""
    d = "coalesce(" + ", ".join(usage_string_sql(p) for p in _g_names(camel)) + ")"
    # (a list that is not JSON is rejected by ``bad_field_sql``; read as no list here)
    return (
        f"(CASE WHEN json_valid({d}) THEN coalesce(list_sum(list_transform(list_filter("
        f"json_transform({d}, '{_MODALITIES}'), lambda m: upper(m.modality) = 'AUDIO'), "
        f"lambda m: llm_tok(coalesce(m.tokenCount, m.token_count)))), 0) END)"
    )


GEMINI = UsageStyle(
    name="gemini",
    input=f"({_g('promptTokenCount')} + {_G_TOOL})",
    # Gemini leaves candidatesTokenCount out of a usage whose answer is empty: 0 then, but
    # unknown (NULL) for a response logged without usageMetadata at all, as in any style
    output=f"(CASE WHEN {_g('promptTokenCount')} IS NOT NULL "
    f"OR {_g('candidatesTokenCount')} IS NOT NULL OR {_g('thoughtsTokenCount')} IS NOT NULL "
    f"THEN coalesce({_g('candidatesTokenCount')}, 0) + {_G_THOUGHTS} END)",
    cache_read=_g("cachedContentTokenCount"),
    reasoning=_g("thoughtsTokenCount"),
    input_audio=_g_audio("promptTokensDetails"),
    cache_read_audio=_g_audio("cacheTokensDetails"),
    output_audio=_g_audio("candidatesTokensDetails"),
    keys=tuple(path for camel in _G_COUNTS for path in _g_names(camel)),
)

GENERIC = UsageStyle(
    name="generic",
    input=_t("$.input_tokens"),
    output=_t("$.output_tokens"),
    cache_read=f"coalesce({_t('$.cache_read_tokens')}, {_t('$.cached_tokens')})",
    cache_write=_t("$.cache_write_tokens"),
    cache_write_1h=_t("$.cache_write_1h_tokens"),
    reasoning=_t("$.reasoning_tokens"),
    web_search=_t("$.web_search_requests"),
    input_audio=_t("$.input_audio_tokens"),
    cache_read_audio=_t("$.cache_read_audio_tokens"),
    output_audio=_t("$.output_audio_tokens"),
    keys=(
        "$.input_audio_tokens",
        "$.cache_read_audio_tokens",
        "$.output_audio_tokens",
        "$.web_search_requests",
        "$.input_tokens",
        "$.output_tokens",
        "$.cache_read_tokens",
        "$.cached_tokens",
        "$.cache_write_tokens",
        "$.cache_write_1h_tokens",
        "$.reasoning_tokens",
    ),
)

STYLES = {s.name: s for s in (OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC, GEMINI, GENERIC)}


def _has(path: str) -> str:
    return f"json_extract(u, '{path}') IS NOT NULL"


# Which style a usage object follows, told by its keys (the most specific first).
AUTO_STYLE_SQL = f"""CASE
    WHEN u IS NULL THEN NULL
    WHEN {_has("$.promptTokenCount")} OR {_has("$.candidatesTokenCount")}
      OR {_has("$.prompt_token_count")} OR {_has("$.candidates_token_count")} THEN 'gemini'
    WHEN {_has("$.prompt_tokens")} OR {_has("$.completion_tokens")} THEN 'openai_chat'
    WHEN {_has("$.cache_read_input_tokens")} OR {_has("$.cache_creation_input_tokens")}
      OR {_has("$.cache_creation")} OR {_has("$.server_tool_use")} THEN 'anthropic'
    WHEN {_has("$.input_tokens_details")} OR {_has("$.output_tokens_details.reasoning_tokens")}
      OR {_has("$.input_token_details")} OR {_has("$.output_token_details")}
      THEN 'openai_responses'
    ELSE 'generic' END"""


def tokens_sql(raw: str | None = None) -> str:
    """The column ``u_tok`` the styles read (``column_sql``): the count at each of their
    paths, from one parse of ``u``. A style's expressions repeat a count (a macro repeats
    its arguments): read from the list, it is not parsed again each time.

    ``raw``: a column made by ``usage_strings_sql`` (the counts are taken from it, and the
    usage object is not parsed again)."""
    if raw is not None:
        counts = f"{raw}[{len(_STRINGS) + 1}:{len(_STRINGS) + len(_PATHS)}]"
        return f"list_transform({counts}, lambda v: llm_tok(v))"
    listed = "[" + ", ".join(f"'{p}'" for p in _PATHS) + "]"
    return f"list_transform(json_extract_string(u, {listed}), lambda v: llm_tok(v))"


def usage_strings_sql() -> str:
    """One parse of ``u``: the text at ``_STRINGS``, then at every path the styles count,
    then at the other paths whose values must be counts (a column, e.g. ``u_raw``, for
    ``tokens_sql``, ``usage_string_sql`` and ``bad_field_sql``; the audio counts of a
    Gemini usage are read from it)."""
    listed = "[" + ", ".join(f"'{p}'" for p in (*_STRINGS, *_raw_counts())) + "]"
    return f"json_extract_string(u, {listed})"


def _checked_paths() -> list[str]:
    """Every path whose value must be a token count, in the order the styles list them."""
    paths: list[str] = []
    for s in STYLES.values():
        paths.extend(p for p in s.keys if p not in paths)
    return paths


def _raw_counts() -> list[str]:
    """The paths ``usage_strings_sql`` reads after ``_STRINGS``: those the styles count
    (``_PATHS``, in that order: ``tokens_sql`` reads them), then the rest of the checked
    ones (totals, which no style counts but a bad one rejects the record)."""
    return [*_PATHS, *(p for p in _checked_paths() if p not in _PATHS)]


def modifier_sql(name: str, raw: str = "u_raw") -> str:
    """A price modifier the usage object reports (``inference_geo``, ``speed``), lower case."""
    return f"lower(llm_blank(trim({usage_string_sql('$.' + name, raw)})))"


def column_sql(field: str, style_col: str = "usage_style") -> str:
    """CASE over the styles for one canonical field ('input', 'cache_read', …), over the
    columns ``u_tok`` (``tokens_sql``) and ``usage_style`` (and, for the audio fields,
    ``u_raw``: ``usage_strings_sql``)."""
    arms = " ".join(f"WHEN '{s.name}' THEN {getattr(s, field)}" for s in STYLES.values())
    return f"(CASE {style_col} {arms} END)"


def bad_field_sql(style_col: str = "usage_style", raw: str | None = None) -> str:
    """SQL naming what is wrong with the usage object: not an object at all, or the first
    field whose value is not a token count (in a Gemini usage, ``style_col``, also a count
    of its modality lists, or a modality list that is not a list).

    One parse of the usage object for all the fields (a list of paths), not one per field;
    ``raw``: a column made by ``usage_strings_sql``, read instead of parsing ``u`` again;
    with it, the column ``u_tok`` (``tokens_sql(raw)``) must be there too: a usage whose
    counts it took all (nearly every one) is passed before any field is checked on its own."""
    paths = _checked_paths()
    names = "[" + ", ".join(f"'{p[2:]}'" for p in paths) + "]"
    if raw is None:
        listed = "[" + ", ".join(f"'{p}'" for p in (*paths, *_G_LISTS)) + "]"
        texts = f"json_extract_string(u, {listed})"
        values = f"{texts}[1:{len(paths)}]"
        list_texts = [f"{texts}[{len(paths) + i}]" for i in range(1, len(_G_LISTS) + 1)]
    else:
        at = {p: len(_STRINGS) + i for i, p in enumerate(_raw_counts(), start=1)}
        values = "[" + ", ".join(f"{raw}[{at[p]}]" for p in paths) + "]"
        list_texts = [usage_string_sql(p, raw) for p in _G_LISTS]
    first_bad = f"list_position(list_transform({values}, lambda v: llm_bad_tok(v)), true)"
    # Gemini's counts by modality: a list of {modality, tokenCount} (SDK: token_count);
    # only in a Gemini usage (OpenAI's prompt_tokens_details is an object of counts)
    gemini = f"{style_col} = 'gemini'"
    lists = ""
    for path, text in zip(_G_LISTS, list_texts, strict=True):
        key = "token_count" if "_" in path else "tokenCount"
        counts = (
            f"list_filter(list_concat(json_extract_string({text}, '$[*].tokenCount'), "
            f"json_extract_string({text}, '$[*].token_count')), lambda v: llm_bad_tok(v))[1]"
        )
        lists += (
            f"WHEN {gemini} AND ((CASE WHEN json_valid({text}) THEN json_type({text}) END)"
            f" <> 'ARRAY' OR NOT json_valid({text}))"
            f" THEN 'usage field {path[2:]} is not a list of modality counts: ' || left({text}, 40)"
            f" WHEN {gemini} AND {counts} IS NOT NULL"
            f" THEN 'usage field {path[2:]}[].{key} ' || llm_tok_fault({counts}) || ': '"
            f" || left({counts}, 40) "
        )
    return (
        "(CASE WHEN u IS NULL THEN NULL "
        "WHEN json_type(u) NOT IN ('OBJECT', 'NULL') "
        "THEN 'usage is not an object: ' || left(CAST(u AS VARCHAR), 40) "
        f"{_all_plain_counts(raw, list_texts, gemini) if raw else ''}"
        f"WHEN coalesce({first_bad}, 0) > 0 THEN "
        f"'usage field ' || {names}[{first_bad}] || ' ' || "
        f"llm_tok_fault({values}[{first_bad}]) || ': ' || "
        f"left({values}[{first_bad}], 40) {lists}END)"
    )


def _all_plain_counts(raw: str, list_texts: list[str], gemini: str) -> str:
    """A CASE arm passing a usage whose every count is one ``llm_tok`` takes and that has
    no Gemini modality list to check: the counts the styles read were taken already
    (``tokens_sql``: the column ``u_tok``), and as many as there are texts for them; the
    other checked paths (totals) are looked at one by one."""
    first = len(_STRINGS) + 1
    styled = f"{raw}[{first}:{first + len(_PATHS) - 1}]"
    totals = range(first + len(_PATHS), first + len(_raw_counts()))
    others = " OR ".join(f"llm_bad_tok({raw}[{i}])" for i in totals) or "false"
    no_lists = f"coalesce({', '.join(list_texts)}) IS NULL"
    return (
        f"WHEN list_count({styled}) = list_count(u_tok) AND NOT ({others}) "
        f"AND (NOT coalesce({gemini}, false) OR {no_lists}) THEN NULL "
    )
