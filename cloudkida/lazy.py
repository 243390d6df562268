"""Modules imported on first use, so a cold start pays only for what its first request needs.

``jwt = lazy_module("jwt")`` binds a module object whose code runs at its first attribute access (the
standard library's ``importlib.util.LazyLoader`` recipe). Use it for heavy libraries that only some request
paths touch — token verification (PyJWT pulls in ``cryptography.x509``), image checks (Pillow), DNS
look-ups (dnspython), boto3 — not for what every request uses.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


def lazy_module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def lazy_view(dotted: str, *, csrf_exempt: bool = False, **initkwargs: Any) -> Callable:
    """The view at ``dotted`` ("module.Class" or "module.function"), imported (and, for a class-based
    view, built) at its first request.

    For views whose module is heavy and that few requests reach (the OIDC sign-in views, the OpenAPI
    documents): URL patterns can name them without the cold start paying for their imports. CSRF
    middleware looks at the view before it is built: say ``csrf_exempt`` here (DRF views are exempt).
    """
    built: list[Callable] = []

    def view(request, *args, **kwargs):
        if not built:
            module, _, name = dotted.rpartition(".")
            target = getattr(importlib.import_module(module), name)
            built.append(target.as_view(**initkwargs) if hasattr(target, "as_view") else target)
        return built[0](request, *args, **kwargs)

    view.csrf_exempt = csrf_exempt
    view.__name__ = view.__qualname__ = dotted.rpartition(".")[2]
    return view
