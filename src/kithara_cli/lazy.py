"""A package's exported names, each loaded from its module on first use (PEP 562).

Why: a package's ``__init__`` that imports every module makes any one name cost them all; a
replay's head plays before the downloader's and PyAV's modules load only because ``dl`` and
``audio`` export this way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``package``: ``where`` maps each name to its module."""

    def get(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return get


def lazy_where(**modules: tuple[str, ...]) -> dict[str, str]:
    """Each exported name -> its module, from the names each module gives."""
    return {name: module for module, names in modules.items() for name in names}
