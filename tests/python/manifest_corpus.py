"""The manifest test corpus, for every test that checks a manifest parser.

Invalid cases are ``(name, text: bytes, expected)`` where ``expected`` holds ``error`` (the class name
in ``remotemedia.errors``), ``path``, ``rule`` (number in docs/MANIFEST.md), ``structural`` (the JSON
Schema rejects it too) and optionally ``mentions`` / ``excludes`` (substrings the message must /
must not contain). Valid cases are ``(name, text: bytes, expected)`` with ``order`` (topological
order), ``sources``, ``sinks`` and ``chain`` (no ``connections`` key).

The Python parser's tests and the native runtime's tests both load this, so both parsers are held
to the same class and path for every fault.
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MANIFEST_DATA = REPO / "tests" / "data" / "manifests"
INVALID_DIR = MANIFEST_DATA / "invalid"
VALID_DIR = MANIFEST_DATA / "valid"
# The manifests of the built-in core node types (PassThrough, Calculator) that the parsers, the
# schema's parameter definitions and the seed tests share. Other examples (examples/speech) use the
# audio and Python nodes and are tested with the full registry by their own tests.
EXAMPLES_DIR = REPO / "examples" / "manifests"
SCHEMA_PATH = REPO / "docs" / "manifest.schema.json"

ERROR_NAMES = ("ManifestError", "UnknownNodeTypeError", "InvalidParameterError", "GraphError")

Case = tuple[str, bytes, dict]


def _read_dir(folder: Path) -> list[Case]:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in folder.glob("*.json") if p.name != "expected.json")
    if files != sorted(expected):
        missing = sorted(set(files) ^ set(expected))
        raise AssertionError(f"{folder}: files and expected.json disagree on {missing}")
    return [(name, (folder / name).read_bytes(), expected[name]) for name in files]


@lru_cache(maxsize=None)
def _generated():
    spec = importlib.util.spec_from_file_location(
        "manifest_make_generated", MANIFEST_DATA / "make_generated.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def invalid_cases() -> list[Case]:
    """The committed malformed manifests of tests/data/manifests/invalid/."""
    return _read_dir(INVALID_DIR)


def valid_cases() -> list[Case]:
    """The committed valid manifests of tests/data/manifests/valid/."""
    return _read_dir(VALID_DIR)


def generated_invalid_names() -> list[str]:
    return list(_generated().INVALID)


def generated_valid_names() -> list[str]:
    return list(_generated().VALID)


def generated_invalid_case(name: str) -> Case:
    """One large generated malformed manifest (built on first use, then cached)."""
    return _generated().invalid_case(name)


def generated_valid_case(name: str) -> Case:
    return _generated().valid_case(name)


def all_invalid_cases() -> list[Case]:
    return invalid_cases() + [generated_invalid_case(n) for n in generated_invalid_names()]


def all_valid_cases() -> list[Case]:
    return valid_cases() + [generated_valid_case(n) for n in generated_valid_names()]


def example_manifests() -> list[tuple[str, bytes]]:
    """Every manifest under examples/manifests/ (path relative to the repo, text)."""
    return [
        (str(p.relative_to(REPO)), p.read_bytes())
        for p in sorted(EXAMPLES_DIR.rglob("*.json"))
        if _looks_like_manifest(p)
    ]


def _looks_like_manifest(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return isinstance(doc, dict) and "nodes" in doc and "version" in doc


def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def error_class(name: str) -> type:
    import remotemedia.errors as errors

    return getattr(errors, name)


def builtin_specs():
    """The built-in node types exactly as docs/MANIFEST.md's table states them, as NodeTypeSpecs,
    for tests that must not depend on the registry."""
    from remotemedia.core.params import NodeTypeSpec, ParamSpec

    return (
        NodeTypeSpec(name="PassThroughNode", aliases=("PassThrough",)),
        NodeTypeSpec(
            name="CalculatorNode",
            aliases=("Calculator",),
            params=(
                ParamSpec(
                    "operation",
                    "string",
                    required=True,
                    choices=("add", "subtract", "multiply", "divide", "power", "modulo"),
                ),
                ParamSpec("operand", "number", required=True),
            ),
        ),
    )


def reference_lookup(node_type: str):
    """``lookup`` for parse_manifest over builtin_specs(), aliases included."""
    for spec in builtin_specs():
        if node_type == spec.name or node_type in spec.aliases:
            return spec
    return None
