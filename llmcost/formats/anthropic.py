"""Anthropic Messages API response bodies (type: message)."""

from llmcost.formats import LineShape, register_shape

register_shape(
    LineShape(
        name="anthropic_messages",
        description="Anthropic Messages response (type: message, role: assistant)",
        match="(r.type = 'message' AND json_type(r.content) = 'ARRAY')",
        usage="r.usage",
        usage_style="anthropic",
        # its text blocks, then a tool call's input (billed as output)
        completion="llm_anthropic_answer(r.content)",
        finish_reason="r.stop_reason",
        provider="'anthropic'",
        request_id="r.id",
        priority=20,
    )
)
