"""Channel settings are checked per type; a misconfigured channel is refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.notify import ChannelCreate, ChannelUpdate, NotifyService

HOOK = {"url": "https://hooks.example.com/radiator", "secret": "0123456789abcdef"}


@pytest.mark.parametrize(
    ("type", "values", "field"),
    [
        ("webhook", {"url": "ftp://example.com/x", "secret": "0123456789abcdef"}, "settings.url"),
        ("webhook", {"url": "https://example.com"}, "settings.secret"),
        ("webhook", {**HOOK, "secret": "short"}, "settings.secret"),
        ("slack", {"url": "not a url"}, "settings.url"),
        ("slack", {"url": "https://x.example", "colour": "red"}, "settings.colour"),
        ("email", {"port": 25, "sender": "a@example.com"}, "settings.host"),
        ("email", {"host": "mail", "port": 70000, "sender": "a@example.com"}, "settings.port"),
        ("email", {"host": "mail", "sender": "nobody"}, "settings.sender"),
        ("email", {"host": "mail", "sender": "a@example.com", "to": ["x"]}, "settings.to.0"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    notify: NotifyService, type: str, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        notify.create_channel(ChannelCreate(name="c", type=type, settings=values))  # type: ignore[arg-type]
    assert caught.value.field == field
    assert field in caught.value.message


def test_secrets_are_not_shown_back_and_survive_an_update_that_echoes_them(
    notify: NotifyService,
) -> None:
    created = notify.create_channel(ChannelCreate(name="hook", type="webhook", settings=HOOK))
    assert created.settings["secret"] == "***"

    echoed = {**created.settings, "url": "https://hooks.example.com/other"}
    notify.update_channel("hook", ChannelUpdate(settings=echoed))

    assert notify.get_channel("hook").settings["url"] == "https://hooks.example.com/other"
    # The stored secret is unchanged: "***" meant "keep it".
    with pytest.raises(InvalidInputError):
        notify.update_channel("hook", ChannelUpdate(settings={**echoed, "secret": "short"}))


def test_names_are_unique_and_unknown_channels_are_not_found(notify: NotifyService) -> None:
    notify.create_channel(ChannelCreate(name="hook", type="webhook", settings=HOOK))
    with pytest.raises(ConflictError):
        notify.create_channel(
            ChannelCreate(name="hook", type="slack", settings={"url": HOOK["url"]})
        )
    notify.delete_channel("hook")
    with pytest.raises(NotFoundError):
        notify.get_channel("hook")
    assert notify.list_channels() == []
