"""The README's Python examples run, in order, in one namespace (as a reader would paste them), and
print what their comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_python_examples_run_and_print_what_they_say():
    blocks = python_blocks()
    assert len(blocks) >= 5
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:  # as written: no top-level await (test_docs_code_blocks.py checks that too)
            exec(compile(block, "README.md", "exec"), namespace)
    printed = out.getvalue()
    assert "[6, 7, 8]" in printed
    assert "[41]" in printed
    assert printed.count("[{'start': 0.5, 'end': 1.5, 'audio': Audio(16000 frames") == 2
