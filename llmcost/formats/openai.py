"""OpenAI response bodies: Chat Completions and the Responses API.

Other providers (DeepSeek, xAI, Mistral …) and gateways answer in these shapes too: the
provider is the one the model names, OpenAI when it names none."""

from llmcost.formats import LineShape, register_shape

# The skip reasons of a streamed chunk: each is kept until the file is read, then the stream
# is made one call (formats/pending_streams.py): its usage chunk (the last one, its counts),
# or, when it has none, its last chunk, with all its chunks' pieces as the answer
STREAM_CHUNK = "stream chunk without usage"
STREAM_USAGE = "stream usage chunk"

_PROVIDER = "coalesce(llm_provider_of(coalesce(r.model, q.model)), 'openai')"

register_shape(
    LineShape(
        name="openai_chat",
        description="OpenAI Chat Completions response (object: chat.completion)",
        match="(r.object LIKE 'chat.completion%' OR json_type(r.choices) = 'ARRAY')",
        usage="r.usage",
        usage_style=None,  # chat usage, or a gateway's Responses-style usage: tell by keys
        # its text, then its tool calls' arguments (formats/sql.py)
        completion="llm_chat_answer(r.choices)",
        # a forced tool choice ends with 'stop': an answer with tool calls is one all the same
        finish_reason=(
            "CASE WHEN llm_chat_tool_calls(r.choices) "
            "THEN 'tool_calls' ELSE json_extract_string(r.choices, '$[0].finish_reason') END"
        ),
        provider=_PROVIDER,
        request_id="r.id",
        ts="r.created",
        # Streamed chunks repeat the call's id; only the final chunk carries usage.
        skip="CASE WHEN r.object = 'chat.completion.chunk' THEN CASE WHEN r.usage IS NULL "
        f"THEN '{STREAM_CHUNK}' ELSE '{STREAM_USAGE}' END END",
        service_tier="r.service_tier",
        priority=10,
    )
)

register_shape(
    LineShape(
        name="openai_responses",
        description="OpenAI Responses API object (object: response)",
        match="(r.object = 'response')",
        usage="r.usage",
        usage_style="openai_responses",
        # its text, then its function calls' arguments (a custom tool's input)
        completion="llm_responses_answer(r.output)",
        finish_reason=(
            "CASE WHEN r.status = 'incomplete' "
            "THEN json_extract_string(r.incomplete_details, '$.reason') "
            "WHEN llm_responses_tool_calls(r.output) THEN 'tool_calls' "
            "WHEN r.status = 'completed' THEN 'stop' ELSE r.status END"
        ),
        provider=_PROVIDER,
        request_id="r.id",
        ts="r.created_at",
        service_tier="r.service_tier",
        priority=10,
    )
)
