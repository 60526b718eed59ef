"""`GET /v1/openapi.json`: no token needed, GET and HEAD only, a valid OpenAPI 3.1 document
(checked with openapi-spec-validator, an independent reference) naming each operation's least
role, with the integrator routes in the shapes the contract fixes."""
import json

from openapi_spec_validator import validate


def fetch(gw, method: str = "GET", headers: dict | None = None):
    status, hdrs, body = gw.http(method, "/v1/openapi.json", headers)
    return status, hdrs, body


def test_the_document_is_valid_openapi_and_needs_no_token(gateway):
    status, hdrs, body = fetch(gateway)
    assert status == 200, body
    assert hdrs["content-type"].startswith("application/json")
    document = json.loads(body)
    validate(document)  # raises with the offending part
    assert document["openapi"].startswith("3.1")
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"]["type"] == "apiKey" and schemes["apiKeyAuth"]["name"] == "Authorization"
    # HEAD answers the headers only; other methods are 405 naming the allowed ones.
    status, hdrs, body = fetch(gateway, "HEAD")
    assert status == 200 and body == b""
    status, hdrs, body = gateway.http("DELETE", "/v1/openapi.json")
    assert status == 405 and "GET" in hdrs["allow"], body


def test_operations_carry_their_roles_and_the_contract_shapes(gateway):
    paths = json.loads(fetch(gateway)[2])["paths"]
    roles = {(verb.upper(), path): op["x-bedrock-role"] for path, item in paths.items() for verb, op in item.items()}
    assert roles[("GET", "/v1/account")] == "VIEWER"
    assert roles[("POST", "/v1/positions/open")] == "TRADER"
    assert roles[("POST", "/v1/risk/kill-switch")] == "ADMIN"
    assert roles[("POST", "/v1/publish")] == "ADMIN"
    assert roles[("GET", "/v1/history")] == "VIEWER"
    assert roles[("GET", "/v1/presence")] == "ADMIN"
    assert roles[("POST", "/v1/admin/disconnect")] == "ADMIN"
    assert roles[("GET", "/v1/trades/export")] == "VIEWER"  # a download route
    assert roles[("GET", "/health")] == "NONE" and paths["/health"]["get"]["security"] == []
    publish = paths["/v1/publish"]["post"]
    body = publish["requestBody"]["content"]["application/json"]
    assert body["schema"]["required"] == ["topic", "data"]
    assert set(body["schema"]["properties"]) == {"topic", "data", "idempotency_key"}
    answer = publish["responses"]["200"]["content"]["application/json"]["example"]
    assert set(answer) == {"id", "topic", "duplicate"}
    disconnect = paths["/v1/admin/disconnect"]["post"]["responses"]["200"]["content"]["application/json"]["example"]
    assert set(disconnect) == {"sub", "revoke", "revoked_before", "connections"}
    history = paths["/v1/history"]["get"]
    assert [p["name"] for p in history["parameters"]] == ["topic", "since", "limit", "reverse"]
    assert "ADMIN" in paths["/v1/presence"]["get"]["description"]


def test_probes_and_operations_document_their_error_answers(gateway):
    document = json.loads(fetch(gateway)[2])
    paths = document["paths"]
    for path in ("/ready", "/health/ready", "/health/startup"):
        example = paths[path]["get"]["responses"]["503"]["content"]["application/json"]["example"]
        assert example["status"] in ("not_ready", "starting") and example["checks"], path
    shared = document["components"]["responses"]
    for status in ("400", "401", "403", "404", "413", "429", "500", "503"):
        ref = paths["/v1/publish"]["post"]["responses"][status]["$ref"]
        error = shared[ref.rsplit("/", 1)[1]]["content"]["application/json"]
        assert error["schema"] == {"$ref": "#/components/schemas/Error"}, status
        assert set(error["example"]) == {"error_code", "message", "timestamp", "request_id"}, status


def test_a_post_is_405_not_401(gateway):
    status, hdrs, body = gateway.http("POST", "/v1/openapi.json", {"Content-Type": "application/json"}, b"{}")
    assert status == 405 and json.loads(body)["error_code"] == "METHOD_NOT_ALLOWED", body
    assert hdrs["allow"] == "GET, HEAD"
