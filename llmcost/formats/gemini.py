"""Google Gemini ``generateContent`` response bodies (usageMetadata)."""

from llmcost.formats import LineShape, register_shape

register_shape(
    LineShape(
        name="gemini",
        description="Gemini generateContent response (candidates, usageMetadata)",
        match="(r.usageMetadata IS NOT NULL OR json_type(r.candidates) = 'ARRAY')",
        usage="r.usageMetadata",
        usage_style="gemini",
        completion=(
            "llm_join(list_transform(json_extract(r.candidates, '$[0].content.parts[*]'), "
            "lambda x: CASE WHEN coalesce(x ->> 'thought', 'false') <> 'true' THEN x ->> 'text' END))"
        ),
        finish_reason="json_extract_string(r.candidates, '$[0].finishReason')",
        provider="'google'",
        request_id="r.responseId",
        ts="r.createTime",
        priority=30,
    )
)
