"""The C++ manifest parser against the shared corpus: the same exception class and JSON path as the
Python parser for every malformed manifest, and acceptance of every valid one."""

from __future__ import annotations

import pytest

runtime = pytest.importorskip("remotemedia._runtime")

import manifest_corpus as corpus  # noqa: E402

from remotemedia import errors  # noqa: E402


def _text(data: bytes) -> str | bytes:
    # The binding takes text or bytes; bytes that are not UTF-8 go as they are.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


@pytest.mark.parametrize("name,data,expected", corpus.invalid_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_native_rejects_invalid_manifest_like_python(name, data, expected):
    with pytest.raises(errors.ManifestError) as info:
        runtime.validate(_text(data))
    exc = info.value
    assert type(exc).__name__ == expected["error"], f"{name}: {exc}"
    assert exc.path == expected["path"], f"{name}: {exc}"
    assert expected["path"] in str(exc)
    for word in expected.get("mentions", []):
        assert word in str(exc), f"{name}: {word!r} not in {exc}"


@pytest.mark.parametrize("name", corpus.generated_invalid_names())
def test_native_rejects_generated_invalid_manifest(name):
    _, data, expected = corpus.generated_invalid_case(name)
    with pytest.raises(errors.ManifestError) as info:
        runtime.validate(_text(data))
    assert type(info.value).__name__ == expected["error"]
    assert info.value.path == expected["path"]


@pytest.mark.parametrize("name,data,expected", corpus.valid_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_native_accepts_valid_manifest(name, data, expected):
    runtime.validate(_text(data))
    compiled = runtime.CompiledPipeline(_text(data))
    assert set(compiled.node_ids) == set(expected["order"])


@pytest.mark.parametrize("name", corpus.generated_valid_names())
def test_native_accepts_generated_valid_manifest(name):
    _, data, _ = corpus.generated_valid_case(name)
    runtime.validate(_text(data))


@pytest.mark.parametrize("name,data", corpus.example_manifests())
def test_native_accepts_every_example_manifest(name, data):
    runtime.validate(_text(data))


@pytest.mark.parametrize("digits,error", [(20, "InvalidParameterError"), (301, "InvalidParameterError"),
                                          (309, "ManifestError"), (401, "ManifestError"), (5000, "ManifestError")])
def test_huge_integer_literals_fail_the_same_way_on_both_parsers(digits, error):
    from remotemedia.core.manifest import parse_manifest

    literal = "9" * digits
    text = ('{"version": "v1", "nodes": [{"id": "a", "node_type": "Calculator", '
            '"params": {"operation": "add", "operand": %s}}]}' % literal)
    for parse in (parse_manifest, runtime.validate):
        with pytest.raises(errors.ManifestError) as info:
            parse(text)
        assert type(info.value).__name__ == error
        assert info.value.path == ("$" if error == "ManifestError" else "$.nodes[0].params.operand")
