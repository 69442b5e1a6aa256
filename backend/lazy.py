"""Package names that load their module on first use (PEP 562).

A package whose `__init__` imported every submodule would make `import
backend.models.settings` (a form's validation) pay for torch, and the GUI's
first paint with it. Such a package lists where each public name lives and
lets this module fetch it when someone asks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`: name -> the submodule (relative) holding it.

    Use as `__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())`;
    a fetched name is cached in the package's namespace.
    """

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__
