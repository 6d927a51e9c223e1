"""Connector secrets: placeholders refused everywhere; webhook secrets also need 32+ random characters."""
from __future__ import annotations

import pytest

from copilot.auth.secrets import secret_problem
from tests.conftest import Api

STRONG = "q7Rk2vX9mPz4Lw8Nc3Ht6Yb1Df5Gs0Ja"  # 32 characters, invented for this test


@pytest.mark.parametrize("value", ["changeme", "CHANGEME", "secret", "", "   ", "short-but-random-9f3",
                                   "x" * 40, "ab" * 20, "your-secret-here-" + "7" * 20,
                                   "replace-me-with-a-long-random-string-please", "example-" + STRONG])
def test_weak_shared_secrets_are_refused(value: str) -> None:
    assert secret_problem(value) is not None


@pytest.mark.parametrize("value", [STRONG, "0f9e8d7c6b5a49382716a5b4c3d2e1f0", "whsec_" + STRONG])
def test_random_shared_secrets_pass(value: str) -> None:
    assert secret_problem(value) is None


def test_a_password_for_another_server_only_refuses_placeholders() -> None:
    assert secret_problem("Tr0ub4dor", shared=False) is None
    assert secret_problem("changeme", shared=False) is not None
    assert secret_problem("", shared=False) is not None


def put(api: Api, name: str, values: dict) -> tuple[int, str]:
    resp = api.client.put(f"/v1/connectors/{name}", json=values, headers=api.auth("quill-books", "admin"))
    return resp.status_code, resp.text


@pytest.mark.parametrize("secret", ["changeme", "s3cret-16-chars!", "z" * 32])
def test_put_refuses_a_weak_webhook_secret(api: Api, secret: str) -> None:
    status, body = put(api, "generic", {"signing_secret": secret})
    assert status == 422 and "signing_secret" in body
    assert secret not in body  # the error never echoes the secret


def test_put_accepts_a_strong_webhook_secret(api: Api) -> None:
    status, body = put(api, "generic", {"signing_secret": STRONG})
    assert status == 200, body
    assert STRONG not in body


def test_imap_password_is_not_held_to_the_webhook_rule(api: Api) -> None:
    settings = {"host": "mail.quill-books.test", "username": "support@quill-books.test"}
    assert put(api, "imap", {**settings, "password": "Tr0ub4dor"})[0] == 200
    status, body = put(api, "imap", {**settings, "password": "changeme"})
    assert status == 422 and "password" in body
