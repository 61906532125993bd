"""Input models of the identity domain: what a username, password and token request may be."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from radiator.identity import ROLE_SCOPES, ApiTokenCreate, Role, Scope, UserCreate

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize("username", ["ada", "a1", "ada.lovelace", "ops-bot_2"])
def test_valid_usernames_are_accepted(username: str) -> None:
    assert UserCreate(username=username, password=PASSWORD).username == username


@pytest.mark.parametrize("username", ["a", "Ada", "-ada", "ada lovelace", "x" * 64, ""])
def test_invalid_usernames_are_refused(username: str) -> None:
    with pytest.raises(ValidationError):
        UserCreate(username=username, password=PASSWORD)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValidationError):
        UserCreate(username="ada", password="x" * 11)


def test_token_needs_at_least_one_scope() -> None:
    with pytest.raises(ValidationError):
        ApiTokenCreate(name="ci", scopes=[])


def test_roles_grant_nested_scopes() -> None:
    assert ROLE_SCOPES[Role.VIEWER] == {Scope.READ}
    assert ROLE_SCOPES[Role.VIEWER] < ROLE_SCOPES[Role.EDITOR] < ROLE_SCOPES[Role.ADMIN]
    assert ROLE_SCOPES[Role.ADMIN] == set(Scope)
