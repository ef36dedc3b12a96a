"""Flat in-house records: ``{timestamp, model, user_id, messages, response, usage}``.

The fallback shape: any JSON object with a model. Aliases: ``ts``/``time``/``created_at``/
``created``; ``user``/``user_id``; ``prompt``/``input``; ``completion``/``output``/
``response`` (a string); token counts in ``usage`` (any provider's style, told by its keys)
or flat at the top level (``input_tokens``/``output_tokens``/``prompt_tokens``/…, with
Anthropic's ``cache_read_input_tokens``/``cache_creation_input_tokens`` read as Anthropic
counts them: outside ``input_tokens``; the audio parts under the canonical names, as
``llmcost export`` writes them: ``input_audio_tokens``, ``cache_read_audio_tokens``,
``output_audio_tokens``).
"""

from llmcost.formats import LineShape, register_shape

# Anthropic's cache keys at the top level keep their convention: with input_tokens (which
# then excludes the cache) the object is Anthropic style, with prompt_tokens OpenAI chat
# style (a gateway's; see formats/usage.py); the style is told from the keys.
_ANTHROPIC_CACHE = (
    "WHEN coalesce(r.cache_read_input_tokens, r.cache_creation_input_tokens) IS NOT NULL THEN "
    "CASE WHEN r.input_tokens IS NOT NULL THEN json_object("
    "'input_tokens', r.input_tokens,"
    " 'output_tokens', coalesce(r.output_tokens, r.completion_tokens),"
    " 'cache_read_input_tokens', r.cache_read_input_tokens,"
    " 'cache_creation_input_tokens', r.cache_creation_input_tokens)"
    " ELSE json_object("
    "'prompt_tokens', r.prompt_tokens,"
    " 'completion_tokens', coalesce(r.completion_tokens, r.output_tokens),"
    " 'cache_read_input_tokens', r.cache_read_input_tokens,"
    " 'cache_creation_input_tokens', r.cache_creation_input_tokens) END "
)
_FLAT_USAGE = (
    f"CASE {_ANTHROPIC_CACHE}"
    "WHEN coalesce(r.input_tokens, r.output_tokens, r.prompt_tokens, r.completion_tokens,"
    " r.cache_read_tokens, r.cached_tokens) IS NULL THEN NULL ELSE json_object("
    "'input_tokens', coalesce(r.input_tokens, r.prompt_tokens),"
    " 'output_tokens', coalesce(r.output_tokens, r.completion_tokens),"
    " 'cache_read_tokens', coalesce(r.cache_read_tokens, r.cached_tokens),"
    " 'cache_write_tokens', r.cache_write_tokens,"
    " 'cache_write_1h_tokens', r.cache_write_1h_tokens,"
    " 'reasoning_tokens', r.reasoning_tokens,"
    " 'input_audio_tokens', r.input_audio_tokens,"
    " 'cache_read_audio_tokens', r.cache_read_audio_tokens,"
    " 'output_audio_tokens', r.output_audio_tokens) END"
)

register_shape(
    LineShape(
        name="flat",
        description="flat in-house record (model + usage or top-level token fields)",
        match="TRUE",
        usage=f"coalesce(r.usage, r.usageMetadata, {_FLAT_USAGE})",
        completion=(
            "coalesce(CASE WHEN json_type(r.response) = 'VARCHAR' THEN r.response ->> '$' END, "
            "CASE WHEN json_type(r.completion) = 'VARCHAR' THEN r.completion ->> '$' END, "
            "CASE WHEN json_type(r.output) = 'VARCHAR' THEN r.output ->> '$' END)"
        ),
        finish_reason="coalesce(r.finish_reason, r.stop_reason)",
        request_id="r.request_id",
        priority=99,
    )
)
