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
        # a functionCall part's args are part of the answer (billed as output), after the text
        completion="llm_gemini_answer(r.candidates)",
        # an answer with function calls ends with STOP all the same
        finish_reason=(
            "CASE WHEN llm_gemini_tool_calls(r.candidates) THEN 'tool_calls' "
            "ELSE coalesce(json_extract_string(r.candidates, '$[0].finishReason'), "
            "json_extract_string(r.candidates, '$[0].finish_reason')) END"
        ),
        provider="'google'",
        request_id="coalesce(r.responseId, r.response_id)",
        ts="coalesce(r.createTime, r.create_time)",
        priority=30,
    )
)
