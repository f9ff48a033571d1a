"""PEP 562 lazy public interfaces: a package names its public objects in ``__all__`` and imports the
module behind a name only when the name is first used, so ``import features`` (or a DAG file parsing
``co2plan``) stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: Mapping[str, str]) -> tuple[list[str], Callable[[str], Any],
                                                                  Callable[[], list[str]]]:
    """``names``: public name -> ``"module:attribute"`` (or ``"module"`` for a module).
    Returns ``(__all__, __getattr__, __dir__)`` for the package's ``__init__``."""

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attr = target.partition(":")
        obj = importlib.import_module(module)
        return getattr(obj, attr) if attr else obj

    def __dir__() -> list[str]:
        return sorted(names)

    return sorted(names), __getattr__, __dir__
