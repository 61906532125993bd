"""Events for the timeline: deploys, config changes, anything worth a marker on a chart.

```python
from radiator.sdk import events

events.deploy("checkout", "1.4.2", environment="production", actor="ci", commit="9f2c1e0")
events.emit("config_change", "raised the pool size to 40", service="checkout", pool=40)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from radiator.core.types import EventKind
from radiator.sdk.client import Client, get_client

__all__ = ["deploy", "emit"]


def emit(
    kind: EventKind | str,
    title: str,
    *,
    service: str | None = None,
    environment: str | None = None,
    actor: str = "",
    links: Sequence[str] = (),
    time: float | None = None,
    client: Client | None = None,
    **attributes: Any,
) -> None:
    """Send an event.

    Args:
        kind: one of ``EventKind`` (``deploy``, ``build``, ``config_change``, ``custom``…);
            an unknown kind is dropped with a warning (once), never raised.
        title: what happened, in a line.
        service: defaults to the client's service.
        environment: defaults to the client's environment.
        actor: who or what did it (a person, ``ci``).
        links: URLs (the pull request, the pipeline run).
        time: Unix seconds; now when omitted.
        client: defaults to the default client.
        **attributes: anything else, stored with the event.
    """
    (client or get_client()).event(
        kind,
        title,
        service=service,
        environment=environment,
        actor=actor,
        attributes=attributes,
        links=links,
        time=time,
    )


def deploy(
    service: str,
    version: str,
    *,
    environment: str | None = None,
    actor: str = "",
    commit: str = "",
    url: str = "",
    client: Client | None = None,
) -> None:
    """Mark a deploy of ``version`` of ``service``; DORA metrics and charts build on these.

    Example:
        ``events.deploy("checkout", "1.4.2", environment="production", commit="9f2c1e0",
        url="https://ci.example.com/runs/812")``
    """
    attributes = {"version": version}
    if commit:
        attributes["commit"] = commit
    (client or get_client()).event(
        EventKind.DEPLOY,
        f"{service} {version}",
        service=service,
        environment=environment,
        actor=actor,
        attributes=attributes,
        links=[url] if url else [],
    )
