"""The backend seam: which part of tactful imports which (the layering), the shared log-probability parser,
pooling of per-token embeddings, and who closes the `similar` embedder."""

from __future__ import annotations

import ast
import json
import math
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ollama
import pytest
import tactful
import tactful.backends
from tactful.backends import open_embedder
from tactful.backends.base import TokenLogprob, token_logprobs
from tactful.backends.embedded import EmbeddedBackend, _pooled
from tactful.backends.ollama import OllamaBackend
from tactful.errors import ConfigError
from tactful.profile.load import ModelSettings

from tests.support.bank import write_profile

# Which part of tactful may import which, at run time (imports under `if TYPE_CHECKING:`
# name types only). A part is a top-level module or a subpackage of tactful; "tactful" is
# the package's own __init__. Read down: each part sits on the ones it names.
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "paths": set(),
    "textclip": set(),
    "prompts": set(),
    "normalize": set(),
    "records": {"errors", "textclip"},
    # the transport layer: no profile, no engine, nothing that decides
    "backends": {"errors", "paths", "textclip"},
    "io": {"errors", "paths", "records", "textclip"},
    "profile": {"backends", "errors", "io", "paths", "records", "textclip"},
    "bank": {"backends", "errors", "io", "normalize", "paths", "profile", "records", "textclip"},
    "check": {"errors", "io", "normalize", "paths", "profile", "records", "textclip"},
    "guard": {"errors", "normalize", "records", "textclip"},
    "engine": {"backends", "bank", "errors", "io", "normalize", "paths", "profile", "records", "textclip"},
    "evaluation": {"backends", "engine", "errors", "io", "profile", "records", "textclip"},
    "learning": {"errors", "evaluation", "io"},
    "settings": {"backends", "errors", "paths", "profile"},
    # the review queue: labels file, picking, refit and its terminal interface; no model
    "review": {"bank", "engine", "errors", "evaluation", "io", "learning", "normalize", "profile", "records", "textclip"},
    "moderator": {"backends", "bank", "engine", "errors", "io", "learning", "normalize", "paths", "profile",
                  "records", "settings", "textclip"},
    # the HTTP server: the moderator behind the APIs it speaks
    "serve": {"backends", "errors", "io", "moderator", "paths", "profile", "records", "settings"},
    "commands": {"backends", "bank", "check", "engine", "errors", "evaluation", "guard", "io", "learning", "moderator",
                 "normalize", "paths", "profile", "records", "review", "serve", "settings", "tactful", "textclip"},
    "main": {"commands", "errors", "io", "tactful"},  # commands by name, imported when one runs
    "__main__": {"main"},
    "tactful": {"moderator"},
}
# Third-party modules only some parts may import: the CLI framework, the model runtimes.
ONLY_IN: dict[str, set[str]] = {
    "typer": {"main", "commands"},
    "llama_cpp": {"backends"},
    "ollama": {"backends"},
    "httpx": {"backends"},
    "textual": {"review"},
    "sklearn": {"learning", "review"},
    "starlette": {"serve"},
    "uvicorn": {"serve"},
}
PACKAGE = Path(tactful.__file__).parent


def _part(module: str) -> str:
    """tactful.engine.prompt -> engine; tactful.main -> main; tactful -> tactful."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module imported at run time, at the top or inside a function (lazy imports count)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _runtime_imports(child, module, is_package)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: len(module.split(".")) - node.level + is_package]
                yield ".".join([*base, *([node.module] if node.module else [])])
            else:
                yield node.module or ""
        yield from _runtime_imports(node, module, is_package)


def _imports_by_part() -> dict[str, dict[str, set[str]]]:
    """part -> imported module -> the modules of that part that import it."""
    found: dict[str, dict[str, set[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imported in _runtime_imports(tree, module, path.name == "__init__.py"):
            found.setdefault(_part(module), {}).setdefault(imported, set()).add(module)
    return found


def test_every_part_of_tactful_imports_only_the_parts_below_it():
    imports = _imports_by_part()
    unknown = sorted(set(imports) - set(MAY_IMPORT))
    assert unknown == [], f"new part(s) {unknown}: add a row to MAY_IMPORT saying what each may import"
    wrong = sorted(
        f"{importer} imports {imported}"
        for part, by_module in imports.items()
        for imported, importers in by_module.items()
        if imported.startswith("tactful") and _part(imported) not in MAY_IMPORT[part] | {part}
        for importer in importers
    )
    assert wrong == []


def test_the_cli_framework_and_model_runtimes_stay_in_their_parts():
    imports = _imports_by_part()
    wrong = sorted(
        f"{importer} imports {imported}"
        for part, by_module in imports.items()
        for imported, importers in by_module.items()
        if imported.split(".")[0] in ONLY_IN and part not in ONLY_IN[imported.split(".")[0]]
        for importer in importers
    )
    assert wrong == []


def test_the_layering_check_sees_lazy_imports_and_skips_type_only_ones():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tactful.profile.load import ModelSettings\n"
        "def open_it():\n    from tactful.engine.prompt import PromptBuilder\n"
        "from . import urls\n"
    )
    found = set(_runtime_imports(ast.parse(source), "tactful.backends.base", is_package=False))
    assert found == {"typing", "tactful.engine.prompt", "tactful.backends"}


def test_the_backends_load_nothing_above_them():
    backends = [m.name for m in pkgutil.iter_modules(tactful.backends.__path__, "tactful.backends.")]
    assert {"tactful.backends.openai", "tactful.backends.hosts"} <= set(backends)
    code = f"import sys\nfor m in {backends!r}: __import__(m)\nprint('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    below = {f"tactful.{part}" for part in MAY_IMPORT["backends"] | {"backends"}} | {"tactful"}
    assert [m for m in loaded if m.startswith("tactful.") and ".".join(m.split(".")[:2]) not in below] == []


LOGPROBS = [
    {"token": "{\"", "logprob": -0.01, "top_logprobs": [{"token": "{\"", "logprob": -0.01}, {"token": "{", "logprob": -4.6}]},
    {"token": "true", "logprob": -0.2, "top_logprobs": None},
]
PARSED = [
    TokenLogprob("{\"", -0.01, {"{\"": -0.01, "{": -4.6}),
    TokenLogprob("true", -0.2, {}),
]


def test_one_parser_reads_both_wire_shapes():
    llama_cpp_shape = LOGPROBS  # dicts, as under choices[0].logprobs.content
    ollama_shape = ollama.ChatResponse.model_validate(
        {"model": "m", "message": {"role": "assistant", "content": "{}"}, "logprobs": LOGPROBS}
    ).logprobs
    assert token_logprobs(llama_cpp_shape) == PARSED
    assert token_logprobs(ollama_shape) == PARSED
    assert token_logprobs(None) is None and token_logprobs([]) is None


def test_per_token_embeddings_are_mean_pooled_to_a_unit_vector():
    assert _pooled([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]]) == pytest.approx([2 / math.sqrt(5), 1 / math.sqrt(5)])  # mean (2, 1)
    assert _pooled([3.0, 4.0]) == pytest.approx([0.6, 0.8])  # a model that pools already
    assert _pooled([[0.0, 0.0]]) == [0.0, 0.0]
    assert _pooled([]) == []
    assert math.hypot(*_pooled([[0.1, 0.2], [0.3, -0.4]])) == pytest.approx(1.0)


def test_embedding_without_model_embedding_names_the_setting():
    backend = EmbeddedBackend("chat.gguf", Path("chat.gguf"))  # loads nothing until asked
    with pytest.raises(ConfigError, match=r"set model\.embedding"):
        backend.embed(["hello"])
    with pytest.raises(ConfigError, match=r"set model\.embedding"):
        open_embedder(ModelSettings(backend="ollama", embedding=None))


def test_open_embedder_opens_the_profiles_kind_for_the_embedding_model():
    embedder = open_embedder(ModelSettings(backend="ollama", name="chat", host="http://127.0.0.1:9", embedding="nomic"))
    try:
        assert isinstance(embedder, OllamaBackend) and embedder.model == "nomic"
        assert embedder.model_setting == "model.embedding"
    finally:
        embedder.close()


def _count_closes(monkeypatch) -> list[str]:
    closed: list[str] = []
    original = OllamaBackend.close

    def close(self: OllamaBackend) -> None:
        closed.append(self.model)
        original(self)

    monkeypatch.setattr(OllamaBackend, "close", close)
    return closed


def test_the_similar_embedder_is_closed_with_the_classifier(cli, ollama_args, fake_ollama, monkeypatch):
    closed = _count_closes(monkeypatch)
    write_profile("similar")
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.code == 0, run.stderr
    assert sorted(closed) == sorted([ollama_args[-1], "fake-embed"])


def test_the_similar_embedder_is_closed_when_the_bank_cannot_be_embedded(cli, ollama_args, fake_ollama, monkeypatch):
    from werkzeug import Response

    closed = _count_closes(monkeypatch)
    write_profile("similar", embedding="nomic-embed-text")
    fake_ollama.server.clear_all_handlers()
    fake_ollama.server.expect_request("/api/embed", method="POST").respond_with_response(
        Response(json.dumps({"error": "model \"nomic-embed-text\" not found"}), status=404, content_type="application/json")
    )
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.code == 3
    assert "nomic-embed-text" in closed
