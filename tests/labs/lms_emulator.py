"""A learning platform (LTI 1.3 "platform") emulated from the specifications, with its own RSA key: login
initiation parameters, the OIDC authorization step (checked like a platform does, answering with a signed
id_token), its JWKS, the OAuth2 client-credentials token endpoint (a JWT client assertion verified against
the tool's JWKS, each jti once), AGS line-item scores (the score media type and required fields checked),
and verification of deep-linking responses. Only this edge is emulated; the tool under test is ours."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


class LmsEmulator:
    def __init__(self, *, client_id: str = "cloudkida-tool", deployment_id: str = "dep-1"):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "lms-key-1"
        self.client_id, self.deployment_id = client_id, deployment_id
        self.tool_jwks: dict | None = None  # handed over by the test (the tool's /lti/jwks)
        self.tokens: set[str] = set()
        self.jtis: set[str] = set()
        self.scores: list[dict] = []
        self.refusals: list[str] = []
        self.down = False  # True: scores are answered 503, as by a platform in maintenance
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict | None = None):
                payload = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                if self.path == "/jwks":
                    return self._reply(200, emulator.jwks())
                return self._reply(404)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path == "/token":
                    status, answer = emulator.token(parse_qs(body.decode()))
                    return self._reply(status, answer)
                if self.path.startswith("/lineitems/") and self.path.endswith("/scores"):
                    status = emulator.score(self.path, dict(self.headers), body)
                    return self._reply(status)
                return self._reply(404)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = f"{self.base}/platform"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the tenant admin enters in CloudKida ---------------------------------------------------------------
    def registration(self) -> dict:
        return {
            "name": "Emulated Moodle",
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_login_url": f"{self.base}/authorize",
            "auth_token_url": f"{self.base}/token",
            "key_set_url": f"{self.base}/jwks",
            "deployment_ids": [self.deployment_id],
        }

    def jwks(self) -> dict:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def login_initiation(self, *, login_hint: str, target: str) -> dict:
        return {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": target,
            "lti_message_hint": "hint-" + login_hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    # --- the OIDC authorization request, answered with an id_token (form_post) -----------------------------------
    def authorize(self, location: str, *, redirect_uri: str, login_hint: str, claims: dict, key=None) -> dict:
        url = urlsplit(location)
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{self.base}/authorize", location
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none"}
        assert {k: query.get(k) for k in expected} == expected, query
        assert query["client_id"] == self.client_id and query["redirect_uri"] == redirect_uri, query
        assert query["login_hint"] == login_hint and query["state"] and query["nonce"], query
        now = int(time.time())
        token_claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": query["nonce"],
            LTI + "deployment_id": self.deployment_id,
            LTI + "version": "1.3.0",
            LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            LTI + "tool_platform": {"guid": "emulated", "name": "Emulated Moodle"},
            **claims,
        }
        token = jwt.encode(token_claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})
        return {"state": query["state"], "id_token": token}

    def resource_link(self, *, sub: str, email: str, name: str, lab_id: str, course: str, lineitem: str) -> dict:
        return {
            "sub": sub,
            "email": email,
            "name": name,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "resource_link": {"id": f"link-{lab_id}"},
            LTI + "context": {"id": "course-1", "label": "CLD101", "title": course},
            LTI + "custom": {"lab_id": lab_id},
            AGS: {
                "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": f"{self.base}/lineitems",
                "lineitem": f"{self.base}/lineitems/{lineitem}",
            },
        }

    def deep_linking(self, *, sub: str, email: str, course: str) -> dict:
        return {
            "sub": sub,
            "email": email,
            "name": "Ivy Instructor",
            LTI + "message_type": "LtiDeepLinkingRequest",
            LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
            LTI + "context": {"id": "course-1", "title": course},
            DL + "deep_linking_settings": {
                "deep_link_return_url": f"{self.base}/deep_link_return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-platform-data",
            },
        }

    # --- what the tool sends back ----------------------------------------------------------------------------------
    def _tool_key(self, token: str):
        assert self.tool_jwks, "hand the tool's JWKS to the emulator first"
        kid = jwt.get_unverified_header(token).get("kid")
        jwk = next(k for k in self.tool_jwks["keys"] if k.get("kid") == kid)
        return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))

    def verify_deep_link_response(self, token: str) -> dict:
        claims = jwt.decode(token, self._tool_key(token), algorithms=["RS256"], audience=self.issuer)
        assert claims["iss"] == self.client_id and claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
        assert claims[DL + "data"] == "opaque-platform-data" and claims[LTI + "deployment_id"] == self.deployment_id
        return claims

    def token(self, form: dict) -> tuple[int, dict]:
        values = {k: v[0] for k, v in form.items()}
        if values.get("grant_type") != "client_credentials" or values.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            self.refusals.append("grant")
            return 400, {"error": "unsupported_grant_type"}
        assertion = values.get("client_assertion", "")
        try:
            claims = jwt.decode(
                assertion, self._tool_key(assertion), algorithms=["RS256"], audience=f"{self.base}/token"
            )
        except Exception as error:
            self.refusals.append(f"assertion: {error}")
            return 401, {"error": "invalid_client"}
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id or claims["jti"] in self.jtis:
            self.refusals.append("claims")
            return 401, {"error": "invalid_client"}
        self.jtis.add(claims["jti"])
        access = uuid.uuid4().hex
        self.tokens.add(access)
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": values.get("scope", ""),
        }

    def score(self, path: str, headers: dict, body: bytes) -> int:
        if self.down:
            return 503
        headers = {k.lower(): v for k, v in headers.items()}
        if headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            self.refusals.append("score token")
            return 401
        if not headers.get("content-type", "").startswith(SCORE_TYPE):
            self.refusals.append("score media type")
            return 415
        score = json.loads(body)
        if not {"userId", "activityProgress", "gradingProgress", "timestamp"} <= set(score):
            self.refusals.append("score fields")
            return 400
        self.scores.append({"lineitem": path.removesuffix("/scores"), **score})
        return 200
