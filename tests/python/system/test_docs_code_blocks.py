"""Every code block in README.md and docs/*.md works as written (issue 12: docs that do not match
the code). Python blocks run in order, one namespace per file, as a reader pasting them would run
them; a top-level expression whose line ends in a comment that reads as a value (``x  # [6, 7]``,
``print(y)  # array([5, 6])``) must have that repr ("..." stands for anything). A block right after
``<!-- not run: REASON -->`` is skipped. Shell blocks: every `remotemedia` / `remotemedia-runtime`
subcommand they use answers --help, every `python -m` module exists, and every script or file
path they name exists."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from remotemedia.core import registry

REPO = Path(__file__).resolve().parents[3]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- not run: [^>]*-->\s*)?```(\w*)\n(.*?)```", re.S)
VALUE_COMMENT = re.compile(r"""^(\[|\{|\(|'|"|-?\d|array\(|Audio\(|True|False|None)""")
PROGRAM = REPO / "build" / "tests" / "remotemedia-runtime"


def blocks(path: Path, language: tuple[str, ...]) -> list[str]:
    return [code for skip, lang, code in BLOCK.findall(path.read_text(encoding="utf-8"))
            if lang in language and not skip]


def expected_value(source_line: str) -> str | None:
    """The value a line's trailing comment states, or None for prose."""
    if "#" not in source_line:
        return None
    comment = source_line.split("#", 1)[1].strip()
    if not VALUE_COMMENT.match(comment):
        return None
    return re.split(r"\s{2,}|\s+\(", comment)[0].rstrip(",")


def same_repr(value, expected: str) -> bool:
    got = " ".join(repr(value).split())
    pattern = ".*".join(re.escape(" ".join(part.split())) for part in expected.split("..."))
    return re.fullmatch(pattern, got, flags=re.S) is not None


def run_block(code: str, namespace: dict, where: str) -> None:
    tree = ast.parse(code, filename=where)  # top-level await is a SyntaxError: docs say asyncio.run
    lines = code.splitlines()
    for statement in tree.body:
        expected = expected_value(lines[statement.end_lineno - 1]) if isinstance(statement, ast.Expr) else None
        if expected is None:
            exec(compile(ast.Module([statement], []), where, "exec"), namespace)
            continue
        expr = statement.value
        is_print = isinstance(expr, ast.Call) and getattr(expr.func, "id", None) == "print" and len(expr.args) == 1
        value = eval(compile(ast.Expression(expr.args[0] if is_print else expr), where, "eval"), namespace)
        assert same_repr(value, expected), f"{where}, line {statement.lineno}: {value!r} is not {expected}"


@pytest.mark.parametrize("path", [p for p in DOCS if blocks(p, ("python",))], ids=lambda p: p.name)
def test_python_blocks_run_and_show_what_they_say(path, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    # Node types the docs register stay the docs' own: other tests register classes of those names.
    monkeypatch.setattr(registry, "_by_name", dict(registry._by_name))
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, code in enumerate(blocks(path, ("python",))):
            run_block(code, namespace, f"{path.name} block {i + 1}")


def shell_commands(path: Path) -> list[list[str]]:
    out = []
    for code in blocks(path, ("bash", "sh", "shell", "console")):
        for line in code.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip().lstrip("$ ")
            for part in re.split(r"\s*(?:\||&&|;)\s*", line):
                if part and not part.startswith("#"):
                    with contextlib.suppress(ValueError):
                        out.append(shlex.split(part))
    return out


def check_command(words: list[str]) -> str | None:
    """Why the command would not work as written, or None."""
    words = [w for w in words if "=" not in w or w.startswith("-")]  # VAR=value prefixes
    if not words:
        return None
    head = os.path.basename(words[0])
    if head in ("bash", "sh") and len(words) > 1 and not words[1].startswith("-"):
        return None if (REPO / words[1]).exists() else f"no file {words[1]}"
    if head.startswith("python") and len(words) > 2 and words[1] == "-m":
        return None if importlib.util.find_spec(words[2]) else f"no module {words[2]}"
    if head.startswith("python") and len(words) > 1 and words[1].endswith(".py"):
        return None if (REPO / words[1]).exists() else f"no file {words[1]}"
    if head in ("remotemedia", "remotemedia-runtime") and len(words) > 1 and not words[1].startswith("-"):
        command = ([sys.executable, "-m", "remotemedia.cli"] if head == "remotemedia" else [str(PROGRAM)])
        if head == "remotemedia-runtime" and not PROGRAM.exists():
            return None
        done = subprocess.run([*command, words[1], "--help"], capture_output=True, text=True, timeout=60)
        return None if done.returncode == 0 else f"{head} {words[1]} --help: {done.stderr.strip()[:200]}"
    return None


@pytest.mark.parametrize("path", [p for p in DOCS if shell_commands(p)], ids=lambda p: p.name)
def test_shell_blocks_name_commands_and_files_that_exist(path):
    problems = [f"{' '.join(w)}: {why}" for w in shell_commands(path) if (why := check_command(w))]
    assert not problems, problems
