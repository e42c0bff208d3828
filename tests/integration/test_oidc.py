"""ID-token validation and the sign-in redirect, against a real OpenID provider.

Tokens are minted with Authlib's JWT under the provider's own signing key and checked
against the keys the running provider publishes; each tampering must be refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.jose import JsonWebKey, jwt
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.oidc import IdentityProviderError, validate_id_token
from infrastructure.settings import Settings
from tests.oidc import ROLE_MAP, OidcProvider, oidc_provider

__all__ = ["oidc_provider"]

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def published(oidc_provider: OidcProvider) -> dict[str, Any]:
    """The provider's public keys, as it publishes them."""
    discovery = httpx.get(f"{oidc_provider.issuer}/.well-known/openid-configuration").json()
    keys: dict[str, Any] = httpx.get(discovery["jwks_uri"]).json()
    assert all("d" not in key for key in keys["keys"])
    return keys


def mint(provider: OidcProvider, key: dict[str, Any] | None = None, **claims: Any) -> str:
    body = {"iss": provider.issuer, "sub": "arne", "aud": provider.client_id,
            "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300, "nonce": NONCE,
            "roles": "archivist", **claims}
    signing = key or provider.private_jwks["keys"][0]
    token: bytes = jwt.encode({"alg": "RS256", "kid": signing["kid"]}, body,
                              JsonWebKey.import_key(signing))
    return token.decode()


def check(provider: OidcProvider, jwks: dict[str, Any], token: str,
          nonce: str = NONCE) -> dict[str, Any]:
    return validate_id_token(token, jwks, issuer=provider.issuer, client_id=provider.client_id,
                             nonce=nonce, now=NOW)


class TestIdTokenValidation:
    def test_a_token_signed_by_the_provider_is_accepted(
            self, oidc_provider: OidcProvider, published: dict[str, Any]) -> None:
        claims = check(oidc_provider, published, mint(oidc_provider))
        assert (claims["sub"], claims["roles"]) == ("arne", "archivist")

    def test_a_tampered_token_is_refused(self, oidc_provider: OidcProvider,
                                         published: dict[str, Any]) -> None:
        header, payload, signature = mint(oidc_provider).split(".")
        other = mint(oidc_provider, roles="admin").split(".")[1]
        assert other != payload
        with pytest.raises(IdentityProviderError, match="refused"):
            check(oidc_provider, published, f"{header}.{other}.{signature}")

    def test_a_wrong_nonce_is_refused(self, oidc_provider: OidcProvider,
                                      published: dict[str, Any]) -> None:
        with pytest.raises(IdentityProviderError, match="nonce"):
            check(oidc_provider, published, mint(oidc_provider), nonce="another-sign-in")
        with pytest.raises(IdentityProviderError, match="nonce"):
            check(oidc_provider, published, mint(oidc_provider, nonce=None))

    def test_a_wrong_audience_is_refused(self, oidc_provider: OidcProvider,
                                         published: dict[str, Any]) -> None:
        with pytest.raises(IdentityProviderError, match="aud"):
            check(oidc_provider, published, mint(oidc_provider, aud="another-client"))

    def test_an_expired_token_is_refused(self, oidc_provider: OidcProvider,
                                         published: dict[str, Any]) -> None:
        old = int(NOW.timestamp()) - 3600
        with pytest.raises(IdentityProviderError, match="expired"):
            check(oidc_provider, published, mint(oidc_provider, iat=old - 300, exp=old))

    def test_a_token_from_another_issuer_is_refused(self, oidc_provider: OidcProvider,
                                                    published: dict[str, Any]) -> None:
        with pytest.raises(IdentityProviderError, match="iss"):
            check(oidc_provider, published, mint(oidc_provider, iss="https://evil.example"))

    def test_a_token_signed_by_another_key_is_refused(self, oidc_provider: OidcProvider,
                                                      published: dict[str, Any]) -> None:
        stranger = {**JsonWebKey.generate_key("RSA", 2048, is_private=True).as_dict(
            is_private=True), "kid": "test-key-1"}
        with pytest.raises(IdentityProviderError):
            check(oidc_provider, published, mint(oidc_provider, key=stranger))


@pytest.fixture
def oidc_runtime(settings: Settings, oidc_provider: OidcProvider) -> Iterator[Runtime]:
    configured = settings.model_copy(update={
        "oidc_issuer": oidc_provider.issuer, "oidc_client_id": oidc_provider.client_id,
        "oidc_client_secret": oidc_provider.client_secret, "oidc_role_map": ROLE_MAP})
    rt = bootstrap(configured)
    yield rt
    rt.close()


class TestSignInRedirect:
    def test_sign_in_goes_to_the_provider_with_pkce_state_and_nonce(
            self, oidc_runtime: Runtime, oidc_provider: OidcProvider) -> None:
        with TestClient(create_app(runtime=oidc_runtime)) as client:
            assert 'href="/login/oidc"' in client.get("/login").text
            response = client.get("/login/oidc", follow_redirects=False)
        assert response.status_code == 303
        target = urlparse(response.headers["location"])
        assert f"{target.scheme}://{target.netloc}" == oidc_provider.issuer
        query = {k: v[0] for k, v in parse_qs(target.query).items()}
        assert query["client_id"] == oidc_provider.client_id
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        assert query["state"] and query["nonce"] and query["state"] != query["nonce"]
        assert query["redirect_uri"] == "http://testserver/login/oidc/callback"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Path=/login/oidc" in cookie

    def test_a_callback_whose_state_does_not_match_is_refused_in_swedish(
            self, oidc_runtime: Runtime) -> None:
        with TestClient(create_app(runtime=oidc_runtime)) as client:
            client.get("/login/oidc", follow_redirects=False)
            response = client.get("/login/oidc/callback?code=abc&state=forged")
        assert response.status_code == 400
        assert "Inloggningen gick inte igenom" in response.text
        assert "custody_session=" not in response.headers.get("set-cookie", "")

    def test_without_a_configured_provider_there_is_no_such_sign_in(
            self, runtime: Runtime) -> None:
        with TestClient(create_app(runtime=runtime)) as client:
            assert 'href="/login/oidc"' not in client.get("/login").text
            assert client.get("/login/oidc", follow_redirects=False).status_code == 404
