"""The layers of docs' architecture, read from the imports of bot/ (module level and inside
functions alike): the core and its services never reach an adapter or a platform's SDK, the
adapters never reach each other, and the Slack adapter's modules import each other without a
cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.config import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"
CORE = (
    "bot.assistant",
    "bot.dialogs",
    "bot.approvals",
    "bot.drafting",
    "bot.knowledge",
    "bot.store",
    "bot.llm",
    "bot.inbound",
    "bot.delivery",
    "bot.incidents",
    "bot.contractors",
)
PLATFORMS = ("bot.slack", "bot.teams", "bot.terminal", "slack_bolt", "slack_sdk")
# what may start or drive the Slack adapter: the entry points (the command line, the HTTP server
# of both adapters) and the benchmarks
SLACK_USERS = ("bot.slack", "bot.cli", "bot.serve", "bot.bench")


def _name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(BOT.rglob("*.py"))}


def imports(module: str) -> set[str]:
    """The modules (or packages, or outside modules) `module` imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from bot.slack import ids` imports bot.slack.ids
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in MODULES else base)
    return out


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_modules_are_found() -> None:
    assert {"bot.slack.app", "bot.delivery.runner", "bot.approvals.service"} <= set(MODULES)
    assert "bot.slack.events" in imports("bot.slack.app")  # `from bot.slack import events`


def test_the_core_and_its_services_never_import_a_platform() -> None:
    found = [
        f"{m} imports {i}"
        for m in MODULES
        if within(m, CORE)
        for i in sorted(imports(m))
        if within(i, PLATFORMS)
    ]
    assert found == []


def test_only_the_entry_points_and_the_benchmarks_reach_into_the_slack_adapter() -> None:
    found = [
        f"{m} imports {i}"
        for m in MODULES
        if not within(m, SLACK_USERS)
        for i in sorted(imports(m))
        if within(i, ("bot.slack",))
    ]
    assert found == []


def test_the_adapters_never_import_each_other() -> None:
    pairs = (("bot.slack", "bot.teams"), ("bot.teams", "bot.slack"))
    for adapter, other in pairs:
        found = [
            f"{m} imports {i}"
            for m in MODULES
            if within(m, (adapter,))
            for i in sorted(imports(m))
            if within(i, (other,))
        ]
        assert found == [], adapter


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in the graph (as a path that ends where it starts), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt, [*path, node])
            if found is not None:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_slack_adapter_has_no_import_cycle() -> None:
    slack = [m for m in MODULES if within(m, ("bot.slack",))]
    graph = {m: {i for i in imports(m) if i in slack and i != m} for m in slack}
    assert cycle(graph) is None
