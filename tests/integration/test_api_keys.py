"""API keys (`api.keys`, `Authorization: ApiKey <key>`): a key acts with its role on REST, a
wrong or malformed key is 401 in the SPEC §4 format, the socket refuses keys, the access log
names the key (never shows it), and a bad entry refuses to start naming it. Keys come from
`bedrock apikey`, the command an operator uses."""
import hashlib
import json
import subprocess
import time

import pytest
from websockets.exceptions import InvalidStatus

from helpers import BEDROCK_BIN, JWT_SECRET, make_jwt

ERROR_MEMBERS = {"error_code", "message", "timestamp", "request_id"}


def new_key(name: str, role: str) -> tuple[str, dict]:
    """A key made by `bedrock apikey` and the api.keys entry it prints."""
    r = subprocess.run([str(BEDROCK_BIN), "apikey", "--name", name, "--role", role], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
    key, digest = lines["key"], lines["key_sha256"]
    assert len(key) >= 43 and hashlib.sha256(key.encode()).hexdigest() == digest
    entry = json.loads(lines["api.keys entry"])
    assert entry == {"name": name, "key_sha256": digest, "role": role}
    return key, entry


@pytest.fixture
def keyed(start_gateway):
    viewer, viewer_entry = new_key("dash-reader", "VIEWER")
    admin, admin_entry = new_key("ops.bot-1", "ADMIN")
    gw = start_gateway({"api": {"keys": [viewer_entry, admin_entry]}, "log": {"format": "json"}})
    return gw, viewer, admin


def call(gw, method: str, path: str, key: str | None = None, body: dict | None = None, auth: str | None = None):
    headers = {"Authorization": auth if auth is not None else f"ApiKey {key}"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    status, hdrs, raw = gw.http(method, path, headers, data)
    return status, hdrs, json.loads(raw) if raw else None


def test_a_key_acts_with_its_role(keyed):
    gw, viewer, admin = keyed
    status, _, account = call(gw, "GET", "/v1/account", viewer)
    assert status == 200 and "balance" in account, account
    # A VIEWER key may not call an ADMIN route; the ADMIN key may.
    status, _, body = call(gw, "POST", "/v1/risk/kill-switch", viewer, {"enabled": False})
    assert status == 403 and body["error_code"] == "FORBIDDEN", body
    status, _, risk = call(gw, "POST", "/v1/risk/kill-switch", admin, {"enabled": False})
    assert status == 200 and risk["kill_switch"] is False, risk
    # The scheme is case-insensitive, like Bearer.
    assert call(gw, "GET", "/v1/account", auth=f"apikey {viewer}")[0] == 200


@pytest.mark.parametrize("auth, message", [
    ("ApiKey not-a-key-of-this-gateway-XXXXXXXXXXXXXXXXXXXXXXXXX", "unknown API key"),
    ("ApiKey ", "malformed API key"),
    ("ApiKey two words", "malformed API key"),
])
def test_a_wrong_or_malformed_key_is_401_without_the_key(keyed, auth, message):
    gw, _, _ = keyed
    status, hdrs, body = call(gw, "GET", "/v1/account", auth=auth)
    assert status == 401, body
    assert set(body) == ERROR_MEMBERS and body["error_code"] == "UNAUTHENTICATED", body
    assert message in body["message"], body
    assert body["request_id"] == hdrs["x-request-id"]
    presented = auth.split(" ", 1)[1]
    if presented.strip():
        assert presented not in json.dumps(body)
    # A POST is refused before its body is read, with the same answer.
    status, _, body = call(gw, "POST", "/v1/risk/kill-switch", body={"enabled": True}, auth=auth)
    assert status == 401 and message in body["message"], body


def test_a_key_differing_in_one_character_is_unknown(keyed):
    gw, viewer, _ = keyed
    twin = viewer[:-1] + ("A" if viewer[-1] != "A" else "B")
    status, _, body = call(gw, "GET", "/v1/account", twin)
    assert status == 401 and body["message"] == "unknown API key", body


def test_the_access_log_names_the_key_and_never_shows_it(keyed):
    gw, viewer, admin = keyed
    assert call(gw, "GET", "/v1/account", viewer, auth=None)[0] == 200
    assert call(gw, "POST", "/v1/risk/kill-switch", viewer, {"enabled": True})[0] == 403
    assert call(gw, "GET", "/v1/account", auth="ApiKey " + admin[::-1])[0] == 401
    gw.stop()
    text = gw.log.read_text()
    assert viewer not in text and admin not in text and admin[::-1] not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("msg") == "http request" and line.get("path", "").startswith("/v1/")]
    named = [(line["path"], line["status"], line["sub"]) for line in access if line.get("api_key") == "dash-reader"]
    assert ("/v1/account", 200, "apikey:dash-reader") in named, access
    assert ("/v1/risk/kill-switch", 403, "apikey:dash-reader") in named, access
    refused = [line for line in access if line["status"] == 401]
    assert refused and all("api_key" not in line for line in refused), refused


def test_the_socket_refuses_api_keys(keyed):
    gw, viewer, _ = keyed
    from websockets.sync.client import connect
    with pytest.raises(InvalidStatus) as refused:
        connect(gw.ws_url(), subprotocols=["bedrock.v1"], additional_headers={"Authorization": f"ApiKey {viewer}"},
                open_timeout=5, proxy=None)
    response = refused.value.response
    assert response.status_code == 401
    body = json.loads(response.body)
    assert body["error_code"] == "UNAUTHENTICATED" and "API keys" in body["message"], body
    assert viewer not in response.body.decode()


@pytest.mark.parametrize("entry, words", [
    ({"name": "bad name", "key_sha256": "a" * 64, "role": "VIEWER"}, ["entry 0", "name"]),
    ({"name": "short-digest", "key_sha256": "abc", "role": "VIEWER"}, ["short-digest", "key_sha256"]),
    ({"name": "upper-digest", "key_sha256": "A" * 64, "role": "VIEWER"}, ["upper-digest", "key_sha256"]),
    ({"name": "no-role", "key_sha256": "b" * 64, "role": "ROOT"}, ["no-role", "role"]),
    ({"name": "first", "key_sha256": "c" * 64, "role": "VIEWER"}, ["entry 1", "first", "earlier entry"]),
])
def test_a_bad_entry_refuses_to_start_naming_it(start_gateway, entry, words):
    keys = [{"name": "first", "key_sha256": "d" * 64, "role": "ADMIN"}, entry] if "entry 1" in words else [entry]
    gw = start_gateway({"api": {"keys": keys}}, wait=False)
    code = gw.proc.wait(30)
    gw.proc = None
    gw.logf.close()
    out = gw.log.read_text()
    assert code == 1, out
    assert "api.keys" in out and all(w in out for w in words), out
    assert "listening on" not in out


@pytest.mark.parametrize("args, words", [
    (["--role", "ROOT"], "--role must be ADMIN, TRADER or VIEWER"),
    (["--name", "a b"], "--name must be 1-64"),
])
def test_apikey_refuses_bad_arguments(args, words):
    r = subprocess.run([str(BEDROCK_BIN), "apikey", *args], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and words in r.stderr, (r.returncode, r.stderr)
    assert r.stdout == ""


def test_each_apikey_run_makes_a_new_key():
    assert new_key("a", "VIEWER")[0] != new_key("a", "VIEWER")[0]


def test_a_jwt_with_an_api_key_subject_is_refused(gateway):
    """`apikey:<name>` is the identity of a key: a token claiming it would pass for the key in
    logs and could not be disconnected."""
    token = make_jwt({"sub": "apikey:backend-1", "role": "ADMIN", "exp": int(time.time()) + 600}, JWT_SECRET)
    status, _, body = gateway.http("GET", "/v1/account", {"Authorization": f"Bearer {token}"})
    err = json.loads(body)
    assert status == 401 and err["error_code"] == "UNAUTHENTICATED", body
    assert err["message"] == "sub apikey:… is reserved for API keys", err
    with pytest.raises(InvalidStatus) as refused:
        gateway.connect(token)
    assert refused.value.response.status_code == 401
