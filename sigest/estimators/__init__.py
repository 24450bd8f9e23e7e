"""sigest's own estimators, one module per family, registered through the ``sigest`` entry point.

Each family module defines ``register_estimators(register)``; a family that fails to import is
reported by name and the others still register.
"""

import importlib
import pkgutil
import warnings

from ..plugins import PluginWarning, hookimpl


@hookimpl
def sigest_register_estimators(register):
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{info.name}")
        except Exception as exc:
            warnings.warn(f"sigest estimators module {info.name!r} failed to import "
                          f"({type(exc).__name__}: {exc}); skipped", PluginWarning, stacklevel=2)
            continue
        hook = getattr(module, "register_estimators", None)
        if hook is not None:
            hook(register)
