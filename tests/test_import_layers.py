"""The core's modules depend one way: views -> services -> letters/outbox/uploads -> models and rules;
tasks call services; nothing below tasks names a task except through enqueue.py (by name).
Read from the source (every import, including the ones inside functions), so a lazy import that
closes a circle fails here too."""
import ast
from pathlib import Path

import requests_app

CORE = Path(requests_app.__file__).parent

# module -> core modules it must never import, directly or inside a function
FORBIDDEN = {
    "uploads": {"services", "tasks", "letters", "outbox", "sweep", "notify"},
    "letters": {"services", "tasks", "outbox", "sweep", "notify"},
    "outbox": {"services", "tasks", "sweep", "notify"},
    "notify": {"services", "tasks", "sweep"},
    "enqueue": {"services", "tasks", "letters", "outbox", "sweep", "uploads", "notify"},
    "services": {"tasks", "sweep", "views"},
    "sweep": {"tasks", "views"},
    "tasks": {"views"},
    # The configuration audit sits under every service that changes configuration.
    "configaudit": {"services", "tasks", "sweep", "views", "selectors", "letters", "outbox", "notify"},
}


def core_imports(module: str) -> set[str]:
    tree = ast.parse((CORE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1:  # from . import x / from .x import y
                found |= {base.split(".")[0]} if base else {a.name for a in node.names}
            elif base.startswith("requests_app."):
                found.add(base.split(".")[1])
            elif base == "requests_app":
                found |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("requests_app.")}
    return found


def test_it_keeps_the_core_imports_one_way():
    for module, forbidden in FORBIDDEN.items():
        assert not core_imports(module) & forbidden, (module, core_imports(module) & forbidden)


def test_it_names_tasks_that_exist():
    from dsar.celery import app
    from requests_app import enqueue

    app.loader.import_default_modules()  # what a worker does at start (autodiscovery), run alone too
    assert {enqueue.SEND_NOTIFICATION, enqueue.RENDER_LETTER} <= set(app.tasks)
