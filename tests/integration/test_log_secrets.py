"""Secrets never reach the log: tokens (good and bad, in a header, the query or a first frame),
the JWT secret and the metrics token, with the gateway logging at debug (every HTTP request, every
socket error and close)."""
import json

from helpers import JWT_SECRET, wait_until


def tampered(token: str) -> str:
    """The same token with its signature changed (refused as a bad signature)."""
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{signature[::-1]}"


def test_no_token_or_secret_in_the_log(start_gateway):
    metrics_token = "scrape-" + "Q7" * 12
    gw = start_gateway({"log": {"level": "debug", "format": "json"}, "server": {"metrics_token": metrics_token}})
    good = gw.token("TRADER", "logged")
    bad = tampered(gw.token("VIEWER", "other"))

    # HTTP: a good and a bad bearer token, a token in the query string, the metrics token.
    assert gw.http("GET", "/v1/account", {"Authorization": f"Bearer {good}"})[0] == 200
    assert gw.http("GET", "/v1/account", {"Authorization": f"Bearer {bad}"})[0] == 401
    assert gw.http("GET", f"/v1/account?token={good}")[0] == 401
    assert gw.http("GET", "/metrics", {"Authorization": f"Bearer {metrics_token}"})[0] == 200
    assert gw.http("GET", "/metrics", {"Authorization": f"Bearer {metrics_token}-"})[0] == 401

    # WebSocket: query token, header token, first-frame auth, a refused refresh, an error frame.
    ws, _ = gw.session("TRADER", "logged")
    ws.send({"type": "auth", "token": bad})
    ws.expect(lambda f: f.get("type") == "error" and f.get("error_code") == "UNAUTHENTICATED")
    ws.send({"type": "request", "id": 7, "method": "no.such.method", "params": {"token": good}})
    ws.expect(lambda f: f.get("type") == "error" and f.get("id") == 7)
    ws.close()
    header = gw.connect(header_token=good)
    header.expect("welcome")
    header.close()
    first = gw.connect()
    first.send({"type": "auth", "token": bad})
    assert first.expect_close()[0] == 4401

    # The log is written by a thread of its own: wait for the last step (the 4401 close) in it.
    wait_until(lambda: '"code":4401' in gw.log_text(), 10, "the 4401 close in the log", seen=gw.log_text)
    text = gw.log_text()
    assert json.loads(text.strip().splitlines()[-1])  # json lines, so the check reads real lines
    for name, secret in (("good token", good), ("bad token", bad), ("jwt secret", JWT_SECRET),
                         ("metrics token", metrics_token)):
        assert secret not in text, f"the {name} is in the log"
        # Nor its signature alone (a token cut or re-encoded in a log line).
        assert secret.split(".")[-1] not in text, f"part of the {name} is in the log"
