"""Sign-in through the municipality's OpenID provider: authorization code flow with PKCE.

The provider's endpoints and keys come from its discovery document
(``<issuer>/.well-known/openid-configuration``). The ID token's signature and claims are
checked with Authlib (``authlib.jose`` with ``CodeIDToken``): the signature against the
provider's published keys (fetched again once when a token names a key we do not have,
so the provider can rotate), ``iss`` equal to the configured issuer, ``aud`` containing
our client id (and ``azp``, if there are several audiences), ``exp``/``iat`` against our
clock, and ``nonce`` equal to the one we sent. The client authenticates to the token
endpoint with its secret (HTTP Basic).

May import the application's ports, Authlib and httpx.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import DecodeError, JoseError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc.errors import JoseError as ClaimsError  # what Authlib's claim checks raise

from application.ports import Clock, SignInStart
from domain.errors import NotAuthenticatedError

SCOPE = "openid profile custody"
LEEWAY_SECONDS = 60
"""Clock skew tolerated between the provider and us."""


class IdentityProviderError(NotAuthenticatedError):
    """The provider refused, could not be reached, or answered with a token we reject."""

    code = "identity_provider_refused"


def validate_id_token(id_token: str, jwks: Mapping[str, Any], *, issuer: str, client_id: str,
                      nonce: str, now: datetime) -> dict[str, Any]:
    """The claims of ``id_token`` if its signature and claims hold; else
    :class:`IdentityProviderError` saying which check failed."""
    try:
        claims = jwt.decode(
            id_token, JsonWebKey.import_key_set(dict(jwks)), claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "value": issuer},
                            "aud": {"essential": True, "value": client_id},
                            "nonce": {"essential": True}},
            claims_params={"nonce": nonce, "client_id": client_id})
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except (JoseError, ClaimsError, DecodeError, ValueError) as error:
        raise IdentityProviderError(f"the ID token was refused: {error}") from None
    return dict(claims)


class OpenIdProvider:
    """Implements :class:`~application.ports.IdentityProvider` against one issuer."""

    def __init__(self, issuer: str, client_id: str, client_secret: str, clock: Clock, *,
                 timeout: float = 10.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self.timeout = timeout
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.timeout)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise IdentityProviderError(f"the identity provider did not answer: {error}") \
                from None
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None:
                found = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                if found.get("issuer", "").rstrip("/") != self.issuer:
                    raise IdentityProviderError("the discovery document names another issuer")
                self._metadata = found
            return self._metadata

    def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        uri = self.metadata()["jwks_uri"]
        with self._lock:
            if self._jwks is None or refresh:
                self._jwks = self._get_json(uri)
            return self._jwks

    def begin(self, redirect_uri: str) -> SignInStart:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        url = add_params_to_uri(self.metadata()["authorization_endpoint"], [
            ("response_type", "code"), ("client_id", self.client_id),
            ("redirect_uri", redirect_uri), ("scope", SCOPE), ("state", state),
            ("nonce", nonce), ("code_challenge", create_s256_code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ])
        return SignInStart(url, state, nonce, verifier)

    def finish(self, code: str, redirect_uri: str, verifier: str,
               nonce: str) -> dict[str, Any]:
        try:
            response = httpx.post(
                self.metadata()["token_endpoint"], timeout=self.timeout,
                auth=(self.client_id, self.client_secret),
                data={"grant_type": "authorization_code", "code": code,
                      "redirect_uri": redirect_uri, "code_verifier": verifier})
        except httpx.HTTPError as error:
            raise IdentityProviderError(f"the identity provider did not answer: {error}") \
                from None
        if response.status_code != 200:
            raise IdentityProviderError(
                f"the identity provider refused the code ({response.status_code})")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise IdentityProviderError("the identity provider sent no ID token")
        try:
            return self._validate(id_token, nonce, self.jwks())
        except IdentityProviderError:
            # Perhaps the provider rotated its keys: fetch them once more, then decide.
            return self._validate(id_token, nonce, self.jwks(refresh=True))

    def _validate(self, id_token: str, nonce: str, jwks: dict[str, Any]) -> dict[str, Any]:
        return validate_id_token(id_token, jwks, issuer=self.metadata()["issuer"],
                                 client_id=self.client_id,
                                 nonce=nonce, now=self.clock.now())
