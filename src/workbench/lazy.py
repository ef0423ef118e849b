"""Names a package hands on, resolved on first use (PEP 562): `import workbench` and the native
generator's start stay cheap, pandas, pydantic and matplotlib load only when a name needs them.
Base layer: imports nothing of the workbench."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(
    package: str, where: Mapping[str, str | tuple[str, str]], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name's module (or `(module, attribute)` for a
    name handed on under another one); the value is kept in `namespace` once looked up."""

    def __getattr__(name: str) -> Any:
        try:
            target = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module, attribute = (target, name) if isinstance(target, str) else target
        value = getattr(importlib.import_module(module), attribute)
        namespace[name] = value
        return value

    return __getattr__
