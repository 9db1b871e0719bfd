"""The two commands, `remotemedia-runtime` (C++) and `remotemedia` (Python), print the same bytes and
exit codes for the features of issue 12: outputs with no plain JSON form, UTF-8 output, file errors,
--jsonl, --output, input limits, --import, --version, validate (docs/CLI.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from remotemedia import Audio
from remotemedia.audio import write

REPO = Path(__file__).resolve().parents[3]
CANDIDATES = [REPO / "build" / "tests" / "remotemedia-runtime", REPO / "build" / "dev" / "remotemedia-runtime"]
PROGRAM = next((p for p in CANDIDATES if p.exists()), None) or shutil.which("remotemedia-runtime")
pytestmark = pytest.mark.skipif(PROGRAM is None, reason="remotemedia-runtime is not built")
MEDIUM = REPO / "examples" / "manifests" / "seed_medium.json"
COMMANDS = {"native": [str(PROGRAM)], "python": [sys.executable, "-m", "remotemedia"]}


def both(*args, stdin: bytes = b""):
    out = {}
    for name, command in COMMANDS.items():
        done = subprocess.run([*command, *map(str, args)], input=stdin, capture_output=True, timeout=120)
        out[name] = (done.returncode, done.stdout, done.stderr)
    return out


def same(*args, stdin: bytes = b""):
    out = both(*args, stdin=stdin)
    assert out["native"] == out["python"], out
    assert b"Traceback" not in out["python"][2]
    return out["native"]


def manifest(tmp_path, *nodes, name="m.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"version": "v1", "nodes": list(nodes)}))
    return path


PASS = {"id": "p", "node_type": "PassThroughNode"}


def test_audio_outputs_print_as_summaries_alike(tmp_path):
    wav = tmp_path / "a.wav"
    write(str(wav), Audio(np.zeros((800, 2), np.int16), 16000))
    m = manifest(tmp_path, {"id": "s", "node_type": "AudioFileSourceNode", "params": {"chunk_ms": 20}})
    code, out, err = same("run", m, stdin=json.dumps([str(wav)]).encode())
    assert code == 0, err
    chunks = json.loads(out)
    assert len(chunks) == 3
    assert chunks[0] == {"audio": {"sample_rate": 16000, "channels": 2, "frames": 320, "dtype": "float32",
                                   "duration": 0.02}}
    assert chunks[2]["audio"]["frames"] == 160


def test_python_values_without_json_form_never_raise():
    from remotemedia.cli import _jsonable

    assert _jsonable(b"abc") == {"bytes": {"length": 3}}
    assert _jsonable(np.arange(4, dtype=np.int16).reshape(2, 2)) == [[0, 1], [2, 3]]
    assert _jsonable(object())["object"]["type"] == "object"


def test_output_is_utf8_not_escapes(tmp_path):
    code, out, _ = same("run", manifest(tmp_path, PASS), stdin='["é", "日本", {"ключ": "😀"}]'.encode())
    assert code == 0 and out == '["é", "日本", {"ключ": "😀"}]\n'.encode()


def test_invalid_utf8_input_is_refused_alike(tmp_path):
    code, out, err = same("run", manifest(tmp_path, PASS), stdin=b'["\xff"]')
    assert (code, out) == (3, b"") and err == b"error: input is not valid JSON at line 1 column 3: invalid UTF-8 byte 0xff\n"


def test_a_manifest_from_stdin(tmp_path):
    items = tmp_path / "items.json"
    items.write_text("[1, 2]")
    code, out, _ = same("run", "-", "--input", items, stdin=MEDIUM.read_bytes())
    assert (code, json.loads(out)) == (0, [12, 14])
    code, out, err = same("run", "-", stdin=MEDIUM.read_bytes())
    assert code == 3 and b"cannot both come from stdin" in err
    assert same("validate", "-", stdin=MEDIUM.read_bytes())[:2] == (0, b"ok: 5 nodes in a chain\n")


@pytest.mark.parametrize("which", ["manifest", "input"])
def test_missing_files_and_directories_are_io_errors(tmp_path, which):
    missing = tmp_path / "nope.json"
    args = ("run", missing) if which == "manifest" else ("run", MEDIUM, "--input", missing)
    assert same(*args) == (3, b"", f"error: cannot read {missing}: No such file or directory\n".encode())
    args = ("run", tmp_path) if which == "manifest" else ("run", MEDIUM, "--input", tmp_path)
    assert same(*args) == (3, b"", f"error: cannot read {tmp_path}: Is a directory\n".encode())


@pytest.mark.parametrize("name", COMMANDS)
def test_jsonl_answers_each_line_before_the_next_is_written(name):
    proc = subprocess.Popen([*COMMANDS[name], "run", str(MEDIUM), "--jsonl"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for x in (1, 2, 3):
            proc.stdin.write(f"{x}\n".encode())
            proc.stdin.flush()
            assert json.loads(proc.stdout.readline()) == (x + 5) * 2  # the pipe is still open
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        assert proc.stdout.read() == b""
    finally:
        proc.kill()
        proc.wait()


def test_jsonl_and_output_file_alike(tmp_path):
    stdin = b'1\n\n2.5\n"x"\n'
    code, out, err = same("run", MEDIUM, "--jsonl", stdin=stdin)
    assert code == 2 and out == b"12\n15.0\n" and b"item 2" in err
    code, out, err = same("run", MEDIUM, "--jsonl", stdin=b"1\n[1,\n")
    assert (code, out) == (3, b"12\n") and err == b"error: input line 2 is not valid JSON at line 1 column 4: unexpected end of input\n"
    for name, command in COMMANDS.items():
        target = tmp_path / f"{name}.json"
        done = subprocess.run([*command, "run", str(MEDIUM), "--output", str(target)], input=b"[1, 2]",
                              capture_output=True, timeout=120)
        assert (done.returncode, done.stdout, target.read_bytes()) == (0, b"", b"[12, 14]\n"), done.stderr


def test_input_nested_too_deep_is_one_rule(tmp_path):
    m = manifest(tmp_path, PASS)
    deep = ("[" * 64 + "]" * 64).encode()
    assert same("run", m, stdin=deep)[0] == 0
    too_deep = ("[" * 65 + "]" * 65).encode()
    assert same("run", m, stdin=too_deep) == (3, b"", b"error: input is nested deeper than the limit of 64 levels\n")
    assert same("run", m, stdin=b"[" * 65 + b"1,]" + b"]" * 64) == (
        3, b"", b"error: input is not valid JSON at line 1 column 68: unexpected character ']'\n")
    assert same("run", m, "--max-depth", 3, stdin=b"[[[[1]]]]")[2] == \
        b"error: input is nested deeper than the limit of 3 levels\n"
    assert same("run", m, "--max-input-bytes", 4, stdin=b"[1, 2]") == (
        3, b"", b"error: input is more than the --max-input-bytes limit (4 bytes)\n")


def test_version_and_help_on_every_argument():
    assert same("--version")[:2] == (0, b"remotemedia 0.1.0\n")
    for name, command in COMMANDS.items():
        text = subprocess.run([*command, "run", "--help"], capture_output=True, text=True, timeout=60).stdout
        for flag in ("--input", "--jsonl", "--output", "--max-input-bytes", "--max-depth", "--import", "--log-level"):
            assert flag in text, (name, flag)


def test_import_registers_a_user_node_type(tmp_path):
    (tmp_path / "mynodes.py").write_text(
        "from remotemedia import Node, register_node_type\n"
        "@register_node_type\n"
        "class Shout(Node):\n"
        "    def process(self, item):\n"
        "        return item.upper() + '!'\n")
    m = manifest(tmp_path, {"id": "s", "node_type": "Shout"})
    env_path = {"PYTHONPATH": str(tmp_path)}
    import os

    env = {**os.environ, **env_path}
    done = subprocess.run([*COMMANDS["python"], "run", str(m), "--import", "mynodes", "--log-level", "debug"],
                          input='["hé"]'.encode(), capture_output=True, timeout=120, env=env)
    assert (done.returncode, done.stdout) == (0, '["HÉ!"]\n'.encode()), done.stderr
    done = subprocess.run([*COMMANDS["native"], "run", str(m), "--import", "mynodes"], input=b'["x"]',
                          capture_output=True, timeout=60)
    assert done.returncode == 1 and b"remotemedia run --import mynodes MANIFEST" in done.stderr
    done = subprocess.run([*COMMANDS["native"], "run", str(m)], input=b'["x"]', capture_output=True, timeout=60)
    assert done.returncode == 1 and b"remotemedia run --import MODULE MANIFEST" in done.stderr


@pytest.mark.parametrize("runtime", ["python", "native"])
def test_python_command_prints_audio_alike_on_both_runtimes(tmp_path, runtime):
    wav = tmp_path / "a.wav"
    write(str(wav), Audio(np.zeros((400, 1), np.int16), 8000))
    m = manifest(tmp_path, {"id": "s", "node_type": "AudioFileSourceNode", "params": {"chunk_ms": 25}})
    items = json.dumps([str(wav)]).encode()
    native = subprocess.run([*COMMANDS["native"], "run", str(m)], input=items, capture_output=True, timeout=60)
    python = subprocess.run([*COMMANDS["python"], "run", str(m), "--runtime", runtime], input=items,
                            capture_output=True, timeout=120)
    assert (python.returncode, python.stdout) == (native.returncode, native.stdout) == (0, native.stdout)
    assert json.loads(native.stdout)[0]["audio"]["frames"] == 200


@pytest.mark.parametrize("runtime", ["python", "native"])
def test_jsonl_answers_each_line_on_either_runtime(runtime):
    proc = subprocess.Popen([*COMMANDS["python"], "run", str(MEDIUM), "--jsonl", "--runtime", runtime],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"1\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"12\n"
        proc.stdin.write('"é"\n'.encode())
        proc.stdin.close()  # on the native engine the failure shows at the next line or the end (docs/CLI.md)
        assert proc.wait(timeout=60) == 2  # "é" + 5 is a node error, after the first output
        assert b"NodeTypeError" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("name", COMMANDS)
def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path, name):
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(map(str, range(200_000))))
    done = subprocess.run(f"{' '.join(COMMANDS[name])} run {MEDIUM} --jsonl -i {lines} | head -1; "
                          "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                          timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (141, b"10\n", b"")


def test_the_program_stops_at_a_failed_line_without_waiting_for_the_next():
    proc = subprocess.Popen([*COMMANDS["native"], "run", str(MEDIUM), "--jsonl"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b'1\n"x"\n')
        proc.stdin.flush()  # and kept open
        assert proc.wait(timeout=30) == 2
        assert proc.stdout.read() == b"12\n" and b"item 1" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


def test_log_level_sends_the_remotemedia_logger_to_stderr():
    quiet = subprocess.run([*COMMANDS["python"], "run", str(MEDIUM)], input=b"[1]", capture_output=True, timeout=120)
    loud = subprocess.run([*COMMANDS["python"], "run", str(MEDIUM), "--log-level", "DEBUG"], input=b"[1]",
                          capture_output=True, timeout=120)
    assert quiet.stdout == loud.stdout == b"[12]\n"
    assert b"remotemedia" not in quiet.stderr and b"DEBUG remotemedia" in loud.stderr
    native = subprocess.run([*COMMANDS["native"], "run", str(MEDIUM), "--log-level", "debug"], input=b"[1]",
                            capture_output=True, timeout=60)
    assert (native.returncode, native.stdout) == (0, b"[12]\n")


def test_numpy_and_bytes_outputs_print_in_their_forms(tmp_path):
    (tmp_path / "arraynodes.py").write_text(
        "import numpy as np\n"
        "from remotemedia import Node, register_node_type\n"
        "@register_node_type\n"
        "class Odd(Node):\n"
        "    def process(self, item):\n"
        "        return [np.arange(3, dtype=np.int16), b'abcd', np.float32(0.5), {'é': (1, 2)}]\n")
    import os

    m = manifest(tmp_path, {"id": "o", "node_type": "Odd"})
    done = subprocess.run([*COMMANDS["python"], "run", str(m), "--import", "arraynodes", "--runtime", "python"],
                          input=b"[0]", capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert (done.returncode, done.stdout.decode()) == (
        0, '[[[0, 1, 2], {"bytes": {"length": 4}}, 0.5, {"é": [1, 2]}]]\n'), done.stderr


def test_nodes_json_has_one_shape():
    native = json.loads(subprocess.run([*COMMANDS["native"], "nodes", "--json"], capture_output=True,
                                       timeout=60).stdout)
    python = json.loads(subprocess.run([*COMMANDS["python"], "nodes", "--json"], capture_output=True,
                                       timeout=60).stdout)
    assert set(native) <= set(python)
    for name in native:
        assert native[name] == python[name], name


USAGE = {
    "depth out of range": (["--max-depth", "100"],
                           b"error: --max-depth: Value 100 not in range 1 to 64\nRun with --help for more information.\n"),
    "jsonl with audio": (["--jsonl", "--audio", "x.wav"], b"error: give --jsonl or --audio, not both\n"),
    "input with audio": (["--input", "i.json", "--audio", "x.wav"], b"error: give --input or --audio, not both\n"),
    "chunk without audio": (["--chunk-ms", "3"], b"error: --chunk-ms and --no-progress go with --audio\n"),
    "pretty with jsonl": (["--pretty", "--jsonl"], b"error: --pretty does not go with --jsonl\n"),
    "chunk of 0": (["--audio", "x.wav", "--chunk-ms", "0"], b"error: --chunk-ms must be a number greater than 0\n"),
}


@pytest.mark.parametrize("name", USAGE)
def test_usage_errors_read_the_same_and_exit_3(name):
    args, stderr = USAGE[name]
    assert same("run", MEDIUM, *args) == (3, b"", stderr)


def test_a_missing_argument_is_a_usage_error_on_both():
    out = both("run")
    assert out["native"][0] == out["python"][0] == 3
    assert all(err.startswith(b"error: ") and b"manifest" in err for _, _, err in out.values())


def test_audio_outputs_go_to_the_output_file(tmp_path):
    wav = tmp_path / "a.wav"
    write(str(wav), Audio(np.zeros((640, 1), np.int16), 16000))
    m = manifest(tmp_path, PASS)
    texts = {}
    for name, command in COMMANDS.items():
        target = tmp_path / f"{name}.jsonl"
        done = subprocess.run([*command, "run", str(m), "--audio", str(wav), "--no-progress", "--output", str(target)],
                              capture_output=True, timeout=120)
        assert (done.returncode, done.stdout) == (0, b""), done.stderr
        texts[name] = target.read_bytes()
    assert texts["native"] == texts["python"] and len(texts["native"].splitlines()) == 2


def router(*targets):
    return {"id": "r", "node_type": "RouterNode",
            "params": {"routes": [{"when": f"item > {i}", "to": t} for i, t in enumerate(targets)]}}


VALIDATE = {
    "chain": ([PASS, {"id": "q", "node_type": "PassThroughNode"}], None, "ok: 2 nodes in a chain"),
    "connected chain": ([PASS, {"id": "q", "node_type": "PassThroughNode"}], [("p", "q", None)],
                        "ok: 2 nodes in a chain"),
    "fan-out": ([PASS, {"id": "q", "node_type": "PassThroughNode"}, {"id": "s", "node_type": "PassThroughNode"}],
                [("p", "q", None), ("p", "s", None)], "ok: 3 nodes in a graph"),
    "router of one port": ([router("pos"), PASS], [("r", "p", "pos")], "ok: 2 nodes in a chain"),
    "router last": ([PASS, router("pos", "neg")], None, "ok: 2 nodes in a graph"),
    "no nodes": ([], None, "ok: 0 nodes in a chain"),
}


@pytest.mark.parametrize("name", VALIDATE)
def test_validate_reads_the_same(tmp_path, name):
    nodes, connections, line = VALIDATE[name]
    text = {"version": "v1", "nodes": nodes}
    if connections is not None:
        text["connections"] = [{"from": a, "to": b, **({"from_port": p} if p else {})} for a, b, p in connections]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(text))
    assert same("validate", path) == (0, f"{line}\n".encode(), b"")


def test_validate_refuses_alike(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"version": "v1", "nodes": [router("pos"), PASS],
                                "connections": [{"from": "r", "from_port": "default", "to": "p"}]}))
    code, out, err = same("validate", path)
    assert (code, out) == (1, b"") and err.startswith(b"error: GraphError: $.connections[0].from_port")
    assert same("validate", tmp_path / "nope.json")[0] == 3


def test_nodes_lists_alike_by_name():
    native = subprocess.run([*COMMANDS["native"], "nodes"], capture_output=True, text=True, timeout=60).stdout
    python = subprocess.run([*COMMANDS["python"], "nodes"], capture_output=True, text=True, timeout=60).stdout
    names = [line.split()[0] for line in native.splitlines() if not line.startswith(" ")]
    assert names == sorted(names) and len(names) >= 15
    rest = iter(python.splitlines())
    assert all(line in rest for line in native.splitlines())  # the native types' lines, in Python's order


@pytest.mark.parametrize("command", ["validate", "nodes"])
def test_import_is_refused_by_the_program_with_the_python_command(command):
    args = [command, str(MEDIUM)] if command == "validate" else [command]
    done = subprocess.run([*COMMANDS["native"], *args, "--import", "mynodes"], capture_output=True, timeout=60)
    assert done.returncode == 1 and f"`remotemedia {command} --import mynodes".encode() in done.stderr
    done = subprocess.run([*COMMANDS["python"], *args, "--import", "json"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_an_unknown_node_type_points_to_import(tmp_path):
    m = manifest(tmp_path, {"id": "a", "node_type": "Nope"})
    out = both("run", m, stdin=b"[1]")
    for code, stdout, err in out.values():
        lines = err.decode().splitlines()
        assert (code, stdout) == (1, b"")
        assert lines[0] == "error: UnknownNodeTypeError: $.nodes[0].node_type: unknown node type 'Nope'"
        assert "remotemedia run --import MODULE MANIFEST" in lines[1]


@pytest.mark.parametrize("runtime", ["auto", "python"])
def test_numbers_and_strings_print_the_same_bytes(tmp_path, runtime):
    items = ('[1e16, 1e-7, 0.30000000000000004, -0.0, 1e308, 5e-324, 1e21, 2.5e-5, 100.0, 12345678901234567890, '
             r'-9223372036854775808, "\u0001\t\n\"\\/\u007f\u2028\u00e9\ud83d\ude00", {"k\u00e9y": "\u001f"}]')
    m = manifest(tmp_path, PASS)
    native = subprocess.run([*COMMANDS["native"], "run", str(m)], input=items.encode(), capture_output=True, timeout=60)
    python = subprocess.run([*COMMANDS["python"], "run", str(m), "--runtime", runtime], input=items.encode(),
                            capture_output=True, timeout=120)
    assert native.returncode == python.returncode == 0, (native.stderr, python.stderr)
    assert native.stdout == python.stdout
    assert "é😀".encode() in native.stdout and b"\\u0001" in native.stdout and b"\\u00e9" not in native.stdout
    for flag in ([], ["--pretty"]):
        nested = b'[[1, [2, {"a": [], "b": {}}], {}]]'
        texts = {name: subprocess.run([*command, "run", str(m), *flag], input=nested, capture_output=True,
                                      timeout=120).stdout for name, command in COMMANDS.items()}
        assert texts["native"] == texts["python"], flag


@pytest.mark.parametrize("mode", [[], ["--jsonl"]])
def test_an_output_file_that_cannot_be_written_is_an_io_error(tmp_path, mode):
    target = tmp_path / "no" / "such" / "dir.json"
    assert same("run", MEDIUM, *mode, "--output", target, stdin=b"[1]" if not mode else b"1\n") == (
        3, b"", f"error: cannot write {target}: No such file or directory\n".encode())


def test_jsonl_lines_have_the_input_limits(tmp_path):
    m = manifest(tmp_path, PASS)
    assert same("run", m, "--jsonl", "--max-input-bytes", 8, stdin=b"12345678\n\n123456789\n") == (
        3, b"12345678\n", b"error: input line 3 is more than the --max-input-bytes limit (8 bytes)\n")
    assert same("run", m, "--jsonl", "--max-depth", 2, stdin=b"[[1]]\n[[[1]]]\n") == (
        3, b"[[1]]\n", b"error: input line 2 is nested deeper than the limit of 2 levels\n")
