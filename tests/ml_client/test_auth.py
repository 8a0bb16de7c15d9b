"""Key and Entra ID token auth: caching, refresh, failures, and the token path end to end."""

from __future__ import annotations

import logging
import time

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from ml_client.auth import SCOPE, KeyAuth, TokenAuth, auth_for
from ml_client.errors import AuthError
from monitoring.secret import Secret
from tests.fakes.azureml_server import FakeAzureML


class FakeCredential:
    """Hands out tokens ``tok-1``, ``tok-2``... each valid for ``lifetime`` seconds of ``clock``."""

    def __init__(self, clock, lifetime: float = 3600.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(f"tok-{len(self.scopes)}", int(self.clock() + self.lifetime))


def test_key_auth_sends_the_key_as_bearer():
    auth = KeyAuth(Secret("k-123"))
    assert auth.header_value() == "Bearer k-123"
    assert "k-123" not in repr(auth)
    assert isinstance(auth_for(Secret("k-123")), KeyAuth)


def test_token_is_cached_until_five_minutes_before_expiry(clock):
    credential = FakeCredential(clock)
    auth = TokenAuth(credential, clock=clock)
    assert auth.header_value() == "Bearer tok-1"
    assert credential.scopes == [(SCOPE,)] and SCOPE == "https://ml.azure.com/.default"
    clock.advance(3600 - 301)
    assert auth.header_value() == "Bearer tok-1"
    clock.advance(2)  # now inside the 300 s refresh margin
    assert auth.header_value() == "Bearer tok-2"
    assert auth.fetches == 2 and auth.expires_on == int(clock.now + 3600)


def test_invalidate_forces_a_new_token(clock):
    credential = FakeCredential(clock)
    auth = TokenAuth(credential, clock=clock)
    auth.header_value()
    auth.invalidate()
    assert auth.header_value() == "Bearer tok-2"


def test_default_credential_is_created_lazily(clock):
    made: list[FakeCredential] = []

    def factory() -> FakeCredential:
        made.append(FakeCredential(clock))
        return made[-1]

    auth = TokenAuth(clock=clock, credential_factory=factory)
    assert made == []
    auth.header_value()
    auth.header_value()
    assert len(made) == 1


def test_credential_failure_is_an_auth_error_that_says_what_to_do(clock):
    class Failing:
        def get_token(self, *scopes, **kwargs):
            raise ClientAuthenticationError("ManagedIdentityCredential: no identity assigned\nmore")

    with pytest.raises(AuthError) as caught:
        TokenAuth(Failing(), clock=clock).header_value()
    message = str(caught.value)
    assert "ClientAuthenticationError: ManagedIdentityCredential: no identity assigned" in message
    assert "more" not in message.split("assigned")[1][:10]
    assert "set AZURE_ML_API_KEY" in message and "managed identity" in message
    assert isinstance(caught.value.__cause__, ClientAuthenticationError)
    assert caught.value.attempts == 0 and caught.value.status is None


def test_empty_token_is_refused(clock):
    class Empty:
        def get_token(self, *scopes, **kwargs):
            return AccessToken("", int(clock() + 3600))

    with pytest.raises(AuthError, match="empty"):
        TokenAuth(Empty(), clock=clock).header_value()


def test_token_path_end_to_end(fake_azureml: FakeAzureML, make_client, clock, caplog):
    caplog.set_level(logging.DEBUG)
    credential = FakeCredential(clock)
    fake_azureml.accept_token("tok-1")
    fake_azureml.accept_token("tok-2")
    client = make_client(api_key=None, client_kwargs={"auth": TokenAuth(credential, clock=clock)})
    for _ in range(3):
        assert len(client.score().rows) == 20
    clock.advance(3600 - 299)  # into the refresh margin
    assert len(client.score().rows) == 20
    assert [r.headers["authorization"] for r in fake_azureml.requests] == (
        ["Bearer tok-1"] * 3 + ["Bearer tok-2"])
    assert len(credential.scopes) == 2
    assert all("tok-1" not in r.getMessage() and "tok-2" not in r.getMessage() for r in caplog.records)


def test_client_defaults_to_token_auth_through_the_given_credential(fake_azureml: FakeAzureML,
                                                                    make_client):
    credential = FakeCredential(time.time)
    fake_azureml.accept_token("tok-1")
    client = make_client(api_key=None, client_kwargs={"credential": credential})
    client.score()
    client.score()
    assert len(credential.scopes) == 1


def test_rejected_token_is_dropped_and_refetched(fake_azureml: FakeAzureML, make_client, clock):
    credential = FakeCredential(clock)
    client = make_client(api_key=None, client_kwargs={"credential": credential})
    with pytest.raises(AuthError, match="managed identity's role") as caught:
        client.score()  # tok-1 is not accepted
    assert caught.value.status == 401 and "aad_token" in str(caught.value)
    fake_azureml.accept_token("tok-2")
    assert len(client.score().rows) == 20
    assert fake_azureml.last_request.headers["authorization"] == "Bearer tok-2"
