"""Every ``radiator`` package states its public names in ``__all__``, and they all import.

In the manner of encode/httpx ``tests/test_exported_members.py``, extended to every package.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from pathlib import Path

import pytest

import radiator

# Packages that may go without __all__ (entry points, not libraries).
MAY_LACK_ALL = {"radiator.demo", "radiator.web.ui"}


def _package_names(path: list[str], prefix: str) -> list[str]:
    """Every package below ``path``, found on disk without importing any of them."""
    names: list[str] = []
    for module in pkgutil.iter_modules(path, prefix):
        if module.ispkg:
            names.append(module.name)
            subpath = str(Path(path[0]) / module.name.rsplit(".", 1)[-1])
            names.extend(_package_names([subpath], module.name + "."))
    return names


PACKAGES = ["radiator", *_package_names(list(radiator.__path__), "radiator.")]


def _exported(name: str) -> list[str]:
    """The package's ``__all__``; one without it exports nothing (reported once, below)."""
    package = importlib.import_module(name)
    return list(getattr(package, "__all__", []))


def test_the_walk_finds_the_domain_packages() -> None:
    assert {"radiator.core", "radiator.identity", "radiator.storage.state"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_defines_all(name: str) -> None:
    package = importlib.import_module(name)
    if name in MAY_LACK_ALL and not hasattr(package, "__all__"):
        pytest.skip(f"{name} is an entry point without __all__")

    assert hasattr(package, "__all__"), f"{name} has no __all__"


@pytest.mark.parametrize("name", PACKAGES)
def test_exported_names_exist_and_import(name: str) -> None:
    exported = _exported(name)
    package = importlib.import_module(name)

    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    for member in exported:
        assert hasattr(package, member), f"{name}.__all__ names missing {member!r}"
        # What `from <name> import <member>` does.
        imported = getattr(__import__(name, fromlist=[member]), member)
        assert imported is getattr(package, member)


def _defined_in(value: object, package: str) -> bool:
    module = str(getattr(value, "__module__", ""))
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("name", PACKAGES)
def test_public_members_defined_in_the_package_are_exported(name: str) -> None:
    exported = set(_exported(name))
    package = importlib.import_module(name)

    # Like httpx: whatever the package's own modules define and its __init__ makes public
    # belongs in __all__. Names it merely imports from elsewhere (typing, other packages)
    # and its submodules are not exports.
    unlisted = sorted(
        member
        for member, value in vars(package).items()
        if not member.startswith("_")
        and not isinstance(value, types.ModuleType)
        and _defined_in(value, name)
        and member not in exported
    )

    assert unlisted == [], f"{name} makes public but does not export {unlisted}"
