"""JWT keys (SPEC §13): `jwt.previous_secret` (rotation window), `jwt.public_key_file` (PEM: RSA →
RS256, EC P-256 → ES256), `jwt.jwks_file` (the token's `kid` picks the key), the algorithm pinned
to the key's type, and a production gateway holding only public keys.

The keys are made with `openssl` here; every token is signed independently of the gateway, with
PyJWT (and by hand with `cryptography` where PyJWT refuses to sign, e.g. HS256 with a PEM as the
HMAC secret). Each check goes over REST (`/v1/markets`) and the WebSocket.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization

from helpers import BEDROCK_BIN, ConnectionClosed, InvalidStatus, b64url, wait_until

SECRET_OLD = "rotation-old-secret-5f0c2a9d7e41b8c3a6f9"
SECRET_NEW = "rotation-new-secret-c93e1b7a40d6f258e1b7"
# The identity provider and this gateway's audience: a production gateway with a provider's keys
# requires both (the provider signs the tokens of its other applications with the same keys).
ISSUER = "https://idp.example/"
AUDIENCE = "bedrock-gateway"


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


class Keys:
    """Private keys made by openssl, their public halves as PEM files, and a JWKS of two."""

    def __init__(self, d: Path):
        self.dir = d
        for name, spec in [("rsa", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                           ("rsa2", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                           ("ec", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                           ("ec384", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"])]:
            openssl("genpkey", *spec, "-out", str(d / f"{name}.key"))
            openssl("pkey", "-in", str(d / f"{name}.key"), "-pubout", "-out", str(d / f"{name}.pub"))
        self.jwks = d / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": [
            self.jwk("rsa", kid="rsa-1", extra={"use": "sig", "alg": "RS256"}),
            self.jwk("ec", kid="ec-1", extra={"use": "sig"}),
            # An encryption key and an unsupported curve: an identity provider publishes such keys
            # next to its signing keys; the gateway skips them.
            self.jwk("rsa2", kid="enc-1", extra={"use": "enc", "alg": "RSA-OAEP"}),
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "x": b64url(b"\x01" * 32)},
        ]}))

    def private(self, name: str) -> bytes:
        return (self.dir / f"{name}.key").read_bytes()

    def public(self, name: str) -> Path:
        return self.dir / f"{name}.pub"

    def jwk(self, name: str, kid: str, extra: dict) -> dict:
        key = serialization.load_pem_public_key(self.public(name).read_bytes())
        numbers = key.public_numbers()
        if hasattr(numbers, "n"):
            n, e = numbers.n, numbers.e
            members = {"kty": "RSA", "n": b64url(n.to_bytes((n.bit_length() + 7) // 8, "big")),
                       "e": b64url(e.to_bytes((e.bit_length() + 7) // 8, "big"))}
        else:
            members = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                       "y": b64url(numbers.y.to_bytes(32, "big"))}
        return {**members, "kid": kid, **extra}


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Keys:
    return Keys(tmp_path_factory.mktemp("jwt-keys"))


def claims(sub: str = "idp-user", role: str = "TRADER", exp_in: int = 600, aud: str = AUDIENCE) -> dict:
    now = int(time.time())
    return {"sub": sub, "role": role, "iat": now - 5, "exp": now + exp_in, "iss": ISSUER, "aud": aud}


def signed(keys: Keys, key: str, alg: str, kid: str | None = None, **kw) -> str:
    headers = {"kid": kid} if kid else None
    return pyjwt.encode(claims(**kw), keys.private(key), algorithm=alg, headers=headers)


def hs256_with_key_text(text: bytes, **kw) -> str:
    """An HS256 token whose HMAC key is `text` (a public key's PEM: the confusion attack)."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims(**kw)).encode())
    mac = hmac.HMAC(text, hashes.SHA256())
    mac.update(f"{head}.{body}".encode())
    return f"{head}.{body}.{b64url(mac.finalize())}"


def alg_none(**kw) -> str:
    head = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{head}.{b64url(json.dumps(claims(**kw)).encode())}."


def rest(gw, token: str) -> tuple[int, str]:
    """(status, refusal message or "") of an authenticated REST read."""
    status, _, body = gw.http("GET", "/v1/markets", {"Authorization": f"Bearer {token}"})
    if status == 401:
        err = json.loads(body)
        assert err["error_code"] == "UNAUTHENTICATED"
        return status, err["message"]
    return status, ""


def accepted(gw, token: str, sub: str = "idp-user", role: str = "TRADER") -> None:
    """The token works over REST, as a query token and as a first `auth` frame."""
    assert rest(gw, token) == (200, "")
    ws = gw.connect(token)
    try:
        w = ws.expect("welcome")
        assert (w["sub"], w["role"]) == (sub, role)
    finally:
        ws.close()
    ws = gw.connect()
    try:
        ws.send({"type": "auth", "token": token})
        w = ws.expect("welcome")
        assert (w["sub"], w["role"]) == (sub, role)
    finally:
        ws.close()


def refused(gw, token: str, reason: str) -> None:
    """The token is refused with `reason` over REST, before the upgrade, and in a first frame."""
    assert rest(gw, token) == (401, reason)
    with pytest.raises(InvalidStatus) as ei:
        gw.connect(token)
    assert ei.value.response.status_code == 401
    ws = gw.connect()
    try:
        ws.send({"type": "auth", "token": token})
        with pytest.raises(ConnectionClosed) as ei:
            ws.recv(5)
        assert ei.value.rcvd is not None, f"no close frame received: {ei.value!r}"
        assert (ei.value.rcvd.code, ei.value.rcvd.reason) == (4401, reason)
    finally:
        ws.close()


def token_command(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`bedrock token` with `config` (it loads the keys and secrets like `bedrock serve`)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    clean.update(env or {})
    return subprocess.run([str(BEDROCK_BIN), "token", "--config", str(config), "--sub", "x", "--role", "VIEWER"],
                          env=clean, cwd=config.parent, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def assert_not_logged(gw, *values: str) -> None:
    """Secrets and tokens never reach the gateway's log."""
    text = gw.log.read_text(errors="replace")
    for value in values:
        assert value not in text, f"{value[:12]}... found in the gateway log"


def production_keys_only(jwt_config: dict) -> dict:
    return {"mode": "production", "jwt": {"secret": None, "issuer": ISSUER, "audience": AUDIENCE, **jwt_config}}


def test_rsa_pem_key_pins_rs256_and_production_starts_without_a_secret(start_gateway, keys):
    gw = start_gateway(production_keys_only({"public_key_file": str(keys.public("rsa"))}))
    accepted(gw, signed(keys, "rsa", "RS256"))
    accepted(gw, signed(keys, "rsa", "RS256", sub="ops", role="ADMIN"), sub="ops", role="ADMIN")
    # The PEM text as an HMAC secret: libjwt alone would verify it; the key accepts RS256 only.
    pem = keys.public("rsa").read_bytes()
    refused(gw, hs256_with_key_text(pem), "token algorithm HS256 not allowed (RS256 only)")
    refused(gw, alg_none(), "token algorithm none not allowed (RS256 only)")
    refused(gw, signed(keys, "ec", "ES256"), "token algorithm ES256 not allowed (RS256 only)")
    refused(gw, signed(keys, "rsa2", "RS256"), "bad token signature")
    # Signed by the same provider for another of its applications.
    refused(gw, signed(keys, "rsa", "RS256", aud="payroll-app"), "token audience not accepted")
    expired = signed(keys, "rsa", "RS256", exp_in=-10)
    refused(gw, expired, "token expired")
    assert_not_logged(gw, expired, pem.decode().splitlines()[1])
    # Nothing to sign with: one clear line, exit 1.
    r = token_command(gw.config_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "bedrock token: cannot sign: no jwt.secret is configured (this gateway only verifies "
        "identity-provider tokens, jwt.public_key_file / jwt.jwks_file)"]


def test_ec_pem_key_from_the_environment_pins_es256(start_gateway, keys):
    gw = start_gateway(production_keys_only({}), env={"BEDROCK_JWT_PUBLIC_KEY_FILE": str(keys.public("ec"))})
    accepted(gw, signed(keys, "ec", "ES256", sub="ec-user", role="VIEWER"), sub="ec-user", role="VIEWER")
    refused(gw, signed(keys, "rsa", "RS256"), "token algorithm RS256 not allowed (ES256 only)")
    refused(gw, hs256_with_key_text(keys.public("ec").read_bytes()), "token algorithm HS256 not allowed (ES256 only)")
    refused(gw, signed(keys, "ec384", "ES384"), "token algorithm ES384 not allowed (ES256 only)")
    # RFC 9068 access tokens, as identity providers issue them.
    for typ in ("at+jwt", "application/at+jwt", "AT+JWT"):
        token = pyjwt.encode(claims(sub="at-user"), keys.private("ec"), algorithm="ES256", headers={"typ": typ})
        accepted(gw, token, sub="at-user")
    token = pyjwt.encode(claims(), keys.private("ec"), algorithm="ES256", headers={"typ": "dpop+jwt"})
    refused(gw, token, "malformed token: header typ is not JWT")


def test_jwks_kid_picks_the_key_next_to_the_secret(start_gateway, keys):
    # Dev fixture: the HS256 secret stays in use next to the identity provider's keys.
    gw = start_gateway(env={"BEDROCK_JWT_JWKS_FILE": str(keys.jwks)})
    # No issuer or audience: dev mode starts, and says what that means.
    assert ("jwt: jwt.issuer and jwt.audience not set with jwt.jwks_file: a token the identity provider "
            "issued for another application is accepted (production refuses to start)") in gw.log.read_text()
    accepted(gw, signed(keys, "rsa", "RS256", kid="rsa-1", sub="r"), sub="r")
    accepted(gw, signed(keys, "ec", "ES256", kid="ec-1", sub="e"), sub="e")
    accepted(gw, gw.token("VIEWER", "local"), sub="local", role="VIEWER")
    any_alg = "token algorithm {} not allowed (accepted: HS256, RS256, ES256)"
    refused(gw, signed(keys, "rsa", "RS256", kid="retired-7"), "token key id (kid) not known")
    refused(gw, signed(keys, "rsa", "RS256"), "token key id (kid) not known")
    # A kid names one key and that key's algorithm: the EC key's kid on an RS256 token (signed
    # with the right RSA key) is refused, and so is a key skipped as an encryption key.
    refused(gw, signed(keys, "rsa", "RS256", kid="ec-1"), "token algorithm RS256 not allowed (ES256 only)")
    refused(gw, signed(keys, "rsa2", "RS256", kid="enc-1"), "token key id (kid) not known")
    refused(gw, signed(keys, "rsa2", "RS256", kid="rsa-1"), "bad token signature")
    refused(gw, signed(keys, "ec", "ES256", kid="ec-1", exp_in=-10), "token expired")
    refused(gw, alg_none(), any_alg.format("none"))
    refused(gw, signed(keys, "rsa", "RS384", kid="rsa-1"), any_alg.format("RS384"))


def replace_file(path: Path, text: str) -> None:
    """Replaces `path` in one rename, as a JWKS sync job would."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_provider_key_rotation_is_picked_up_when_a_token_names_the_new_kid(start_gateway, keys, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [keys.jwk("rsa", kid="rsa-1", extra={})]}))
    gw = start_gateway(production_keys_only({"jwks_file": str(jwks)}))
    accepted(gw, signed(keys, "rsa", "RS256", kid="rsa-1"))
    # The provider publishes its next key next to the current one, and signs with it.
    replace_file(jwks, json.dumps({"keys": [keys.jwk("rsa", kid="rsa-1", extra={}),
                                            keys.jwk("rsa2", kid="rsa-2", extra={})]}))
    rotated = signed(keys, "rsa2", "RS256", kid="rsa-2", sub="rotated")
    # The first token naming rsa-2 starts a re-read in the background; no restart.
    wait_until(lambda: rest(gw, rotated) == (200, ""), 10, "a token with the new kid accepted",
               seen=lambda: rest(gw, rotated))
    accepted(gw, rotated, sub="rotated")
    accepted(gw, signed(keys, "rsa", "RS256", kid="rsa-1"))
    assert "jwt: key files re-read, 2 public key(s) in use" in gw.log.read_text()


def test_a_key_file_that_no_longer_reads_keeps_the_keys_in_use(start_gateway, keys, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [keys.jwk("ec", kid="ec-1", extra={})]}))
    gw = start_gateway(production_keys_only({"jwks_file": str(jwks)}))
    marker = "half-written-jwks-7c1e"
    replace_file(jwks, '{"keys": [{"kty": "EC", "kid": "' + marker)
    refused(gw, signed(keys, "ec", "ES256", kid="ec-2"), "token key id (kid) not known")
    line = (f"jwt: re-reading jwt.jwks_file failed ({jwks} is not valid JSON (or repeats a member)); "
            "the keys in use are kept")
    wait_until(lambda: line in gw.log.read_text(), 10, "the failed re-read logged")
    accepted(gw, signed(keys, "ec", "ES256", kid="ec-1", sub="still"), sub="still")
    assert_not_logged(gw, marker)


def test_rotation_window_then_previous_secret_removed(start_gateway, redis_server):
    old_token = pyjwt.encode(claims(sub="old"), SECRET_OLD, algorithm="HS256")
    gw = start_gateway({"jwt": {"secret": SECRET_OLD}})
    accepted(gw, old_token, sub="old")
    assert gw.stop() == 0

    # Step 1 of the rotation: sign with the new secret, keep verifying the old one.
    gw = start_gateway({"jwt": {"secret": SECRET_NEW}}, env={"BEDROCK_JWT_PREVIOUS_SECRET": SECRET_OLD})
    accepted(gw, old_token, sub="old")
    new_token = gw.token("TRADER", "new")
    accepted(gw, new_token, sub="new")
    assert pyjwt.decode(new_token, SECRET_NEW, algorithms=["HS256"])["sub"] == "new"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(new_token, SECRET_OLD, algorithms=["HS256"])  # never signed with the previous one
    assert gw.stop() == 0

    # Step 2: the window is over — previous_secret removed, gateway restarted.
    rotated = gw
    gw = start_gateway({"jwt": {"secret": SECRET_NEW}})
    refused(gw, old_token, "bad token signature")
    accepted(gw, new_token, sub="new")
    for g in (rotated, gw):
        assert_not_logged(g, SECRET_OLD, SECRET_NEW, old_token, new_token)


@pytest.mark.parametrize("jwt_config, env, line", [
    ({"previous_secret": "short"}, {},
     'config: jwt.previous_secret: must be at least 32 bytes, got 5 (from {cfg})'),
    ({}, {"BEDROCK_JWT_PUBLIC_KEY_FILE": "{keys}/rsa.key"},
     "config: jwt.public_key_file: {keys}/rsa.key holds a private key; give the public key "
     "(`openssl pkey -in FILE -pubout`) (from BEDROCK_JWT_PUBLIC_KEY_FILE)"),
    ({"public_key_file": "{keys}/ec384.pub"}, {},
     "config: jwt.public_key_file: {keys}/ec384.pub EC key on curve secp384r1; only P-256 "
     "(prime256v1, for ES256) is supported (from {cfg})"),
    ({"jwks_file": "{keys}/rsa.pub"}, {},
     "config: jwt.jwks_file: {keys}/rsa.pub is not valid JSON (or repeats a member) (from {cfg})"),
    ({"jwks_file": "{keys}/missing.json"}, {},
     'config: jwt.jwks_file: no readable file "{keys}/missing.json" (from {cfg})'),
    ({"jwks_file": "{keys}/jwks.json", "issuer": None, "audience": None}, {},
     "config: jwt.issuer: must be set (and jwt.audience) in production when jwt.jwks_file is set, or a token "
     "the identity provider issued for another application is accepted (from {cfg})"),
    ({"audience": None}, {"BEDROCK_JWT_PUBLIC_KEY_FILE": "{keys}/rsa.pub"},
     "config: jwt.audience: must be set in production when jwt.public_key_file is set, or a token "
     "the identity provider issued for another application is accepted (from BEDROCK_JWT_PUBLIC_KEY_FILE)"),
])
def test_bad_key_configuration_refuses_to_start(tmp_path, keys, jwt_config, env, line):
    config = tmp_path / "bedrock.json"
    jwt_section = {k: v and v.format(keys=keys.dir) for k, v in jwt_config.items()}
    config.write_text(json.dumps({"mode": "production", "data_dir": str(tmp_path / "data"),
                                  "jwt": {"secret": SECRET_NEW, "issuer": ISSUER, "audience": AUDIENCE,
                                          **jwt_section}}))
    r = token_command(config, {k: v.format(keys=keys.dir) for k, v in env.items()})
    assert r.returncode == 1
    assert r.stderr.strip() == "bedrock token: " + line.format(keys=keys.dir, cfg=config)
