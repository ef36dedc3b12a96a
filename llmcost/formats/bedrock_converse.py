"""AWS Bedrock Converse API response bodies, as a record shape of the JSON-lines reader.

A Converse response is ``{output: {message: {content: [{text}]}}, stopReason, usage:
{inputTokens, outputTokens, totalTokens, cacheReadInputTokens, cacheWriteInputTokens},
metrics: {latencyMs}}``. It does not name its model (the model id is in the request URL), so
a log line must: ``{"model": "amazon.nova-lite-v1:0", "request": {...}, "response": {...}}``
or a bare body with a top-level ``model``.

Like Bedrock's invocation metrics, ``inputTokens`` EXCLUDES the cache reads and writes
(``totalTokens`` = input + output + cache read + cache write): canonical input adds them.
"""

from llmcost.formats import LineShape, register_shape


def _n(key: str) -> str:
    return f"json_extract_string(r.usage, '$.{key}')"


_READ = f"coalesce(llm_tok({_n('cacheReadInputTokens')}), 0)"
_WRITE = f"coalesce(llm_tok({_n('cacheWriteInputTokens')}), 0)"

# Canonical counts in the generic style; a count that is not an integer is passed on as
# written, so the reader rejects the line naming the field.
_USAGE = (
    "json_object("
    f"'input_tokens', CASE WHEN llm_tok({_n('inputTokens')}) IS NULL THEN {_n('inputTokens')} "
    f"ELSE CAST(llm_tok({_n('inputTokens')}) + {_READ} + {_WRITE} AS VARCHAR) END, "
    f"'output_tokens', {_n('outputTokens')}, "
    f"'cache_read_tokens', {_n('cacheReadInputTokens')}, "
    f"'cache_write_tokens', {_n('cacheWriteInputTokens')})"
)

register_shape(
    LineShape(
        name="bedrock_converse",
        description="AWS Bedrock Converse response (usage.inputTokens, output.message); the "
        "line names the model",
        match="(json_type(r.usage) = 'OBJECT' AND json_exists(r.usage, '$.inputTokens'))",
        usage=_USAGE,
        usage_style="generic",
        # a toolUse block's input is part of the answer (billed as output), after the text
        completion=(
            "llm_join(list_concat(json_extract_string(r.output, '$.message.content[*].text'), "
            "json_extract_string(r.output, '$.message.content[*].toolUse.input')))"
        ),
        finish_reason=(
            "CASE WHEN len(json_extract(r.output, '$.message.content[*].toolUse')) > 0 "
            "THEN 'tool_calls' ELSE r.stopReason END"
        ),
        provider="'aws-bedrock'",
        priority=40,
    )
)
