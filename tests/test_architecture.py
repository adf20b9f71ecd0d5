"""The code reads top-down: no import cycles, handlers imported by the app only, tests on their own."""

from __future__ import annotations

import ast
from pathlib import Path

from server.settings import PROJECT_ROOT

SERVER = PROJECT_ROOT / "server"


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The server modules `path` imports, with relative imports resolved."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from . import repository` imports the module repository itself.
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & modules


def import_graph() -> dict[str, set[str]]:
    paths = sorted(SERVER.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imported_modules(path, modules) for path in paths}


def test_the_graph_sees_the_modules_it_should():
    graph = import_graph()
    assert "server.views.drivers" in graph["server.app"]
    assert "server.repository" in graph["server.views.drivers"]
    assert "server.db" in graph["server.auth"]


def test_no_module_imports_one_that_imports_it_back():
    graph = import_graph()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for imported in sorted(graph[module]):
            if imported in path:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert not cycles, f"import cycles: {cycles}"


def test_only_the_app_factory_imports_the_handlers():
    for module, imports in import_graph().items():
        handlers = {name for name in imports if name.startswith("server.views")}
        if module not in ("server.app", "server.views") and not module.startswith("server.views."):
            assert not handlers, f"{module} imports handler modules {handlers}"
        if module.startswith("server.views."):
            siblings = handlers - {"server.views"}
            assert not siblings, f"{module} reaches sideways into {siblings}"


def module_map() -> set[str]:
    """The paths that docs/architecture.md's module map names, e.g. `server/views/drivers.py`."""
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text()
    block = text.split("## Module map", 1)[1].split("```", 2)[1]
    named = set()
    folders: list[tuple[int, str]] = []  # (indent, folder) from the outermost in
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        entry = line.split()[0]
        while folders and folders[-1][0] >= indent:
            folders.pop()
        path = "".join(folder for _, folder in folders) + entry
        if entry.endswith("/"):
            folders.append((indent, entry))
        named.add(path)
    return named


def test_the_module_map_names_every_server_module():
    modules = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in SERVER.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert modules - module_map() == set(), "add these to the module map in docs/architecture.md"


def test_the_module_map_names_no_module_that_is_gone():
    gone = {path for path in module_map() if path.endswith(".py") and not (PROJECT_ROOT / path).exists()}
    assert gone == set()


def test_no_test_module_imports_another_test_module_or_a_conftest():
    # Shared helpers live in helper modules (tests/support.py, tests/e2e/ui.py, ...),
    # fixtures in conftests: a test module reads on its own.
    paths = sorted((PROJECT_ROOT / "tests").rglob("*.py"))
    modules = {module_name(path) for path in paths}
    borrowed = {
        module_name(path): sorted(
            name
            for name in imported_modules(path, modules)
            if name.rpartition(".")[2].startswith("test_") or name.endswith("conftest")
        )
        for path in paths
        if path.name.startswith("test_")
    }
    assert {module: names for module, names in borrowed.items() if names} == {}
