"""Google Gemini ``generateContent`` response bodies (usageMetadata), as the REST API
writes them or as the google-genai SDK's ``model_dump()`` does (usage_metadata,
model_version, snake_case counts)."""

from llmcost.formats import LineShape, register_shape

register_shape(
    LineShape(
        name="gemini",
        description="Gemini generateContent response (candidates, usageMetadata)",
        match="(r.usageMetadata IS NOT NULL OR r.usage_metadata IS NOT NULL "
        "OR json_type(r.candidates) = 'ARRAY')",
        usage="coalesce(r.usageMetadata, r.usage_metadata)",
        usage_style="gemini",
        completion=(
            "llm_join(list_transform(json_extract(r.candidates, '$[0].content.parts[*]'), "
            "lambda x: CASE WHEN coalesce(x ->> 'thought', 'false') <> 'true' THEN x ->> 'text' END))"
        ),
        finish_reason="coalesce(json_extract_string(r.candidates, '$[0].finishReason'), "
        "json_extract_string(r.candidates, '$[0].finish_reason'))",
        provider="'google'",
        request_id="coalesce(r.responseId, r.response_id)",
        ts="coalesce(r.createTime, r.create_time)",
        priority=30,
    )
)
