"""Dependencies point one way: the core never imports an app, apps import only what is below them, and no
import hides inside a function unless a comment says why it must be lazy."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("tenants", "accounts", "labs", "billing")
# Who may import whom (the composition root, cloudkida/urls.py, may import every app).
ALLOWED = {
    "cloudkida": set(),
    "tenants": {"cloudkida"},
    "accounts": {"cloudkida", "tenants"},
    "labs": {"cloudkida", "tenants", "accounts"},
    "billing": {"cloudkida", "tenants", "accounts", "labs"},
}


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text())


def _imported_packages(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_each_layer_imports_only_what_lies_below_it():
    offenders = []
    for package, allowed in ALLOWED.items():
        for path, tree in _modules(package):
            if path == ROOT / "cloudkida" / "urls.py":
                continue
            used = _imported_packages(tree) & set(ALLOWED)
            offenders += [f"{path.relative_to(ROOT)} imports {p}" for p in sorted(used - allowed - {package})]
    assert offenders == []


def test_no_import_hides_in_a_function_without_saying_why():
    """Imports inside functions dodge cycles; the only ones allowed are in ``AppConfig.ready`` (Django's
    registry is not ready before it) or marked ``# lazy:`` with the reason (cold start)."""
    offenders = []
    for package in ALLOWED:
        for path, tree in _modules(package):
            lines = path.read_text().splitlines()
            for function in ast.walk(tree):
                if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function.name == "ready":
                    continue
                for node in ast.walk(function):
                    if isinstance(node, (ast.Import, ast.ImportFrom)) and "# lazy:" not in lines[node.lineno - 1]:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {lines[node.lineno - 1].strip()}")
    assert offenders == []


# What the request path must not import at start-up (the cold start, issue 12): each has a lazy way in.
EAGER = {
    "drf_spectacular.utils": "cloudkida.apidocs (extend_schema applied when a schema is generated)",
    "drf_spectacular.openapi": "cloudkida.apidocs",
    "cloudkida.schema": "cloudkida.apidocs (ErrorSerializer and the decorators live there)",
    "drf_spectacular.views": "cloudkida.lazy.lazy_view in the URLconf",
    "jwt": 'cloudkida.lazy.lazy_module("jwt")',
    "boto3": "cloudkida.aws.client",
    "PIL": 'cloudkida.lazy.lazy_module("PIL.Image")',
    "dns": 'cloudkida.lazy.lazy_module("dns.resolver")',
    "storages": "an import inside the function that needs it, marked # lazy:",
    "stripe": 'cloudkida.lazy.lazy_module("stripe")',
}
# schema.py is only imported to generate a schema; apidocs.py takes drf_spectacular.utils' light value classes
# (OpenApiParameter, …), which do not load the OpenAPI machinery, and defers extend_schema.
EAGER_EXEMPT = {"cloudkida/schema.py", "cloudkida/apidocs.py"}


def test_no_module_imports_at_top_level_what_a_cold_start_need_not_load():
    offenders = []
    for package in ALLOWED:
        for path, tree in _modules(package):
            relative = str(path.relative_to(ROOT))
            if relative in EAGER_EXEMPT or "/management/" in relative:
                continue
            for node in tree.body:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    for eager, instead in EAGER.items():
                        if name == eager or name.startswith(eager + "."):
                            offenders.append(f"{relative}:{node.lineno} imports {name}; use {instead}")
    assert offenders == []
