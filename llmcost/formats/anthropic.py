"""Anthropic Messages API response bodies (type: message)."""

from llmcost.formats import LineShape, register_shape

register_shape(
    LineShape(
        name="anthropic_messages",
        description="Anthropic Messages response (type: message, role: assistant)",
        match="(r.type = 'message' AND json_type(r.content) = 'ARRAY')",
        usage="r.usage",
        usage_style="anthropic",
        completion=(
            "llm_join(list_transform(json_extract(r.content, '$[*]'), "
            "lambda b: CASE WHEN b ->> 'type' = 'text' THEN b ->> 'text' "
            # a tool call's input is part of the answer (billed as output)
            "WHEN b ->> 'type' = 'tool_use' THEN CAST(b -> 'input' AS VARCHAR) END))"
        ),
        finish_reason="r.stop_reason",
        provider="'anthropic'",
        request_id="r.id",
        priority=20,
    )
)
