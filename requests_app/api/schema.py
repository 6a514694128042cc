"""drf-spectacular post-processing: document the JSON error object on every operation, so
clients (and the Schemathesis run in the suite) know each status the API may answer."""

ERRORS = {
    "400": "Invalid input (fields name what is wrong)",
    "401": "No, or an unknown, revoked or expired API key",
    "403": "Your role or this case's assignment does not allow it",
    "404": "No such case (or appeal)",
    "409": "Conflict: the case changed since you read it, or the action is not available in its state",
    "422": "Refused: the law or the case's state refuses it; the message says why",
    "429": "Too many requests",
}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "example": "invalid"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": True,
                       "description": "Per-field messages, for invalid input"},
        },
    }
    ref = {"$ref": "#/components/schemas/Error"}
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for code, text in ERRORS.items():
                if code in ("409", "422") and method == "get":
                    continue
                responses.setdefault(code, {"description": text, "content": {"application/json": {"schema": ref}}})
    return result
