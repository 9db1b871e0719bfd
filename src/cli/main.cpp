// remotemedia-runtime: the standalone program. Runs a manifest on JSON items or on an audio file,
// validates a manifest, lists the node types. No Python involved.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/json.h"
#include "remotemedia/json_fault.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"
#include "remotemedia/session.h"

using namespace remotemedia;

namespace {

// Exit codes: 0 ok, 1 bad manifest, 2 a node failed, 3 bad input or I/O.
constexpr int kExitManifest = 1;
constexpr int kExitNode = 2;
constexpr int kExitInput = 3;

enum class ReadResult { kOk, kUnreadable, kTooLarge };

// Reads at most `limit` + 1 bytes: a larger text fails the size limit whatever follows, so an
// endless stream (/dev/zero, a pipe that never closes) is refused at the limit instead of being
// read into memory. On kUnreadable, *reason is the OS's ("No such file or directory", "Is a
// directory"). The Python command (python/remotemedia/cli.py) reads the same way.
ReadResult read_text(const std::string& path, std::string* out, std::string* reason, size_t limit = kMaxJsonBytes) {
  int fd = STDIN_FILENO;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *reason = std::strerror(errno);
      return ReadResult::kUnreadable;
    }
  }
  out->resize(limit + 1);
  size_t got = 0;
  ReadResult result = ReadResult::kOk;
  while (got < out->size()) {
    const ssize_t n = ::read(fd, out->data() + got, out->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *reason = std::strerror(errno);
      result = ReadResult::kUnreadable;
      break;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (fd != STDIN_FILENO) ::close(fd);
  out->resize(got);
  if (result == ReadResult::kOk && got > limit) result = ReadResult::kTooLarge;
  return result;
}

// "at line L column C: reason" when the text is not JSON, empty when it is: a text either
// parser refuses is scanned again for its first fault, worded from one vocabulary (json_fault.h),
// only then.
std::string json_syntax_fault(std::string_view text) {
  std::optional<JsonFault> fault = find_json_fault(text);
  return fault ? fault->where() : std::string();
}

// The limits of an input (a JSON array, or one line of --jsonl), apart from a manifest's (which
// are always 16 MiB and 64 levels, docs/MANIFEST.md rules 1 and 2). They can be lowered, not
// raised: the parser's own limits are the defaults.
struct InputLimits {
  size_t max_bytes = kMaxJsonBytes;
  int max_depth = kMaxJsonDepth;
};

// "input is more than the 16 MiB limit (16777216 bytes)", the same words as the Python command's.
std::string too_large(const std::string& what, size_t limit = kMaxJsonBytes) {
  return what + " is more than the " + (limit == kMaxJsonBytes ? std::string("16 MiB") : "--max-input-bytes") +
         " limit (" + std::to_string(limit) + " bytes)";
}

// The nesting depth of a text's arrays and objects, counted outside strings (as parse_json counts
// it, so the input's limit applies before the parser's).
int nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// Prints "error: cannot read PATH: REASON" or the size refusal; the exit code, 0 when read.
int read_or_report(const std::string& path, const std::string& what, std::string* text,
                   size_t limit = kMaxJsonBytes) {
  std::string reason;
  switch (read_text(path, text, &reason, limit)) {
    case ReadResult::kUnreadable: std::cerr << "error: cannot read " << path << ": " << reason << "\n"; return kExitInput;
    case ReadResult::kTooLarge: std::cerr << "error: " << too_large(what, limit) << "\n"; return kExitInput;
    case ReadResult::kOk: return 0;
  }
  return kExitInput;
}

int fail(const Status& s) {
  std::cerr << "error: " << status_code_name(s.code()) << ": " << s.to_string() << "\n";
  if (s.code() == StatusCode::kUnknownNodeType) {
    std::cerr << "note: this program runs native node types only (see `remotemedia-runtime nodes`); "
                 "a Python node type needs the Python package: `remotemedia run --import MODULE MANIFEST`\n";
  }
  switch (s.code()) {
    case StatusCode::kManifestError:
    case StatusCode::kUnknownNodeType:
    case StatusCode::kInvalidParameter:
    case StatusCode::kGraphError: return kExitManifest;
    default: return kExitNode;
  }
}

// The graph of the manifest at `path`; on failure *exit_code is set (1, or 3 for a file that
// cannot be read) and the error printed.
std::optional<Graph> load_graph(const std::string& path, int* exit_code) {
  std::string text, reason;
  switch (read_text(path, &text, &reason)) {
    case ReadResult::kUnreadable:
      std::cerr << "error: cannot read " << path << ": " << reason << "\n";
      *exit_code = kExitInput;
      return std::nullopt;
    case ReadResult::kTooLarge:
      *exit_code = fail(ManifestError(too_large("manifest text"), "$"));
      return std::nullopt;
    case ReadResult::kOk: break;
  }
  Result<Graph> graph = [&]() -> Result<Graph> {
    Result<Manifest> manifest = parse_manifest(text);
    if (!manifest.ok()) {
      const Status& s = manifest.status();
      const std::string fault =
          s.code() == StatusCode::kManifestError && s.path() == "$" ? json_syntax_fault(text) : "";
      return fault.empty() ? s : ManifestError("not valid JSON " + fault, "$");
    }
    return Graph::compile(*manifest, Registry::global());
  }();
  if (!graph.ok()) {
    *exit_code = fail(graph.status());
    return std::nullopt;
  }
  return std::move(graph).value();
}

// One input text (the whole input, or a line of --jsonl) as a Value, refused as the Python command
// refuses it; on failure the error is printed and nullopt returned (exit 3).
std::optional<Value> parse_input(std::string_view text, const std::string& what, const InputLimits& limits) {
  if (text.size() > limits.max_bytes) {
    std::cerr << "error: " << too_large(what, limits.max_bytes) << "\n";
    return std::nullopt;
  }
  if (nesting_depth(text) > limits.max_depth) {
    // A text both too deep and not JSON reads as not JSON, as a manifest does (docs/MANIFEST.md rule 2).
    if (const std::string fault = json_syntax_fault(text); !fault.empty()) {
      std::cerr << "error: " << what << " is not valid JSON " << fault << "\n";
    } else {
      std::cerr << "error: " << what << " is nested deeper than the limit of " << limits.max_depth << " levels\n";
    }
    return std::nullopt;
  }
  Result<Value> value = parse_json(text);
  if (!value.ok()) {
    const std::string fault = json_syntax_fault(text);
    std::cerr << "error: " << what << " is not valid JSON " << (fault.empty() ? ": " + value.status().message() : fault)
              << "\n";
    return std::nullopt;
  }
  return std::move(value).value();
}

// An output as JSON data (docs/CLI.md, "Output forms"): Audio and bytes as summaries, arrays as
// nested lists (to_json writes them so), non-finite floats as null when `null_non_finite` (the
// line-by-line modes) and left for to_json to refuse otherwise. The Python command (_jsonable)
// writes the same.
Value jsonable(const Value& v, bool null_non_finite = true) {
  switch (v.kind()) {
    case ValueKind::kFloat: return std::isfinite(v.as_float()) || !null_non_finite ? v : Value();
    case ValueKind::kAudio: {
      const AudioBuffer& a = v.as_audio();
      return Value::map({{"audio", Value::map({{"sample_rate", Value::integer(a.sample_rate())},
                                               {"channels", Value::integer(a.channels())},
                                               {"frames", Value::integer(a.frames())},
                                               {"dtype", Value::string(dtype_name(a.dtype()))},
                                               {"duration", Value::real(a.duration_seconds())}})}});
    }
    case ValueKind::kBytes:
      return Value::map(
          {{"bytes", Value::map({{"length", Value::integer(static_cast<int64_t>(v.as_string().size()))}})}});
    case ValueKind::kList: {
      List items;
      for (const Value& x : v.as_list()) items.push_back(jsonable(x, null_non_finite));
      return Value::list(std::move(items));
    }
    case ValueKind::kMap: {
      Map entries;
      for (const auto& [k, x] : v.as_map()) entries.emplace_back(k, jsonable(x, null_non_finite));
      return Value::map(std::move(entries));
    }
    default: return v;
  }
}

// Where the outputs go: stdout, or the --output file. Each line is flushed as it is written.
class OutputSink {
 public:
  // False (the error printed) if the file cannot be opened.
  bool open(const std::string& path) {
    if (path.empty()) return true;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) {
      std::cerr << "error: cannot write " << path << ": " << std::strerror(errno) << "\n";
      return false;
    }
    return true;
  }
  ~OutputSink() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void line(const std::string& text) {
    std::FILE* f = file_ != nullptr ? file_ : stdout;
    std::fwrite(text.data(), 1, text.size(), f);
    std::fputc('\n', f);
    std::fflush(f);
  }

 private:
  std::FILE* file_ = nullptr;
};

// Session options that write each output as a JSON line to `sink`; an output with no JSON form is
// reported on stderr and sets `unprintable` (on the thread that processes).
SessionOptions printing_to(OutputSink& sink, std::atomic<bool>& unprintable) {
  SessionOptions options;
  options.on_output = [&unprintable, &sink](Value out) {
    Result<std::string> text = to_json(jsonable(out));
    if (!text.ok()) {
      unprintable = true;
      std::cerr << "error: output has no JSON form: " << text.status().message() << "\n";
      return;
    }
    sink.line(text.value());
  };
  return options;
}

struct RunOptions {
  std::string manifest_path, input_path = "-", output_path;
  bool pretty = false;
  InputLimits limits;
};

bool both_from_stdin(const RunOptions& o) {
  if (o.manifest_path != "-" || o.input_path != "-") return false;
  std::cerr << "error: the manifest and the input cannot both come from stdin: give --input FILE\n";
  return true;
}

int cmd_run(const RunOptions& o) {
  int code = 0;
  std::optional<Graph> graph = load_graph(o.manifest_path, &code);
  if (!graph) return code;
  if (both_from_stdin(o)) return kExitInput;
  std::string input_text;
  if (const int read = read_or_report(o.input_path, "input", &input_text, o.limits.max_bytes); read != 0) return read;
  std::optional<Value> items = parse_input(input_text, "input", o.limits);
  if (!items) return kExitInput;
  if (!items->is_list()) {
    std::cerr << "error: input must be a JSON array of items\n";
    return kExitInput;
  }
  OutputSink sink;
  if (!sink.open(o.output_path)) return kExitInput;
  Result<std::vector<Value>> out = run(*graph, items->as_list());
  if (!out.ok()) return fail(out.status());
  Result<std::string> text = to_json(jsonable(Value::list(std::move(out).value()), false), o.pretty ? 2 : -1);
  if (!text.ok()) {
    std::cerr << "error: output has no JSON form: " << text.status().message() << "\n";
    return kExitInput;
  }
  sink.line(text.value());
  return 0;
}

// --jsonl: one item per input line (blank lines skipped), read as it arrives; one output per line,
// written and flushed as it is produced, so `tail -f log | remotemedia-runtime run m.json --jsonl`
// works. A line longer than the limit is refused as soon as it passes it, not read to its end.
int cmd_run_jsonl(const RunOptions& o) {
  int code = 0;
  std::optional<Graph> graph = load_graph(o.manifest_path, &code);
  if (!graph) return code;
  if (both_from_stdin(o)) return kExitInput;
  int fd = STDIN_FILENO;
  if (o.input_path != "-") {
    fd = ::open(o.input_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::cerr << "error: cannot read " << o.input_path << ": " << std::strerror(errno) << "\n";
      return kExitInput;
    }
  }
  OutputSink sink;
  if (!sink.open(o.output_path)) return kExitInput;
  std::atomic<bool> unprintable{false};  // set on the thread that processes
  SessionOptions options = printing_to(sink, unprintable);
  Result<std::shared_ptr<Session>> session =
      Session::open(std::make_shared<const Graph>(std::move(*graph)), std::move(options));
  if (!session.ok()) return fail(session.status());
  Session& s = **session;

  int input_fault = 0;
  bool refused = false;  // the session failed: its error is reported below
  size_t line_number = 0;
  std::string line, buffer(64 * 1024, '\0');
  auto take = [&]() {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;
    std::optional<Value> item = parse_input(line, "input line " + std::to_string(line_number), o.limits);
    if (!item) input_fault = kExitInput;
    else refused = !s.push(std::move(*item)).ok() || !s.error().ok();  // an idle session processed it already
  };
  while (input_fault == 0 && !refused) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::cerr << "error: cannot read " << o.input_path << ": " << std::strerror(errno) << "\n";
      input_fault = kExitInput;
      break;
    }
    if (n == 0) {
      if (!line.empty()) take();
      break;
    }
    std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    while (!chunk.empty() && input_fault == 0 && !refused) {
      const size_t newline = chunk.find('\n');
      line.append(chunk.substr(0, newline));
      if (line.size() > o.limits.max_bytes) {
        std::cerr << "error: " << too_large("input line " + std::to_string(line_number + 1), o.limits.max_bytes)
                  << "\n";
        input_fault = kExitInput;
        break;
      }
      if (newline == std::string_view::npos) break;
      chunk.remove_prefix(newline + 1);
      take();
      line.clear();
    }
  }
  if (fd != STDIN_FILENO) ::close(fd);
  if (input_fault != 0) {
    s.cancel();
    s.wait_closed();
    return input_fault;
  }
  s.end();
  s.wait_closed();
  Status status = s.error();
  if (!status.ok()) return fail(status);
  return unprintable ? kExitInput : 0;
}

// ------------------------------------------------------------------------------ run --audio

// "\rname: 1.20/4.00 s" on stderr, at most ten times a second and once at the end.
class ProgressLine {
 public:
  ProgressLine(std::string name, int64_t total_frames, int rate)
      : name_(std::move(name)), total_(total_frames), rate_(rate) {}
  void add(int64_t frames) {
    done_ += frames;
    const auto now = std::chrono::steady_clock::now();
    if (now - shown_ < std::chrono::milliseconds(100)) return;
    shown_ = now;
    show();
  }
  void finish() {
    show();
    std::fputc('\n', stderr);
  }

 private:
  void show() const {
    std::fprintf(stderr, "\r%s: %.2f/%.2f s", name_.c_str(), static_cast<double>(done_) / rate_,
                 static_cast<double>(total_) / rate_);
    std::fflush(stderr);
  }
  std::string name_;
  int64_t total_;
  int rate_;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point shown_{};
};

// Hands each chunk the file source emits to the session (waiting while it is full); after the
// session refuses one, the rest of the file is dropped.
class SessionFeeder final : public Emitter {
 public:
  SessionFeeder(Session& session, ProgressLine* progress) : session_(session), progress_(progress) {}
  void emit(Value item) override {
    if (!refused_.ok()) return;
    const int64_t frames = item.kind() == ValueKind::kAudio ? item.as_audio().frames() : 0;
    refused_ = session_.push(std::move(item));
    if (refused_.ok() && progress_ != nullptr) progress_->add(frames);
  }

 private:
  Session& session_;
  ProgressLine* progress_;
  Status refused_;
};

// Streams an audio file through a session of the manifest's pipeline in chunks (the
// AudioFileSource node reads it), printing each output as a JSON line as it comes. Native nodes
// only; the Python command (`remotemedia run --audio`) prints the same lines.
int cmd_run_audio(const std::string& manifest_path, const std::string& audio_path, const std::string& output_path,
                  double chunk_ms, bool progress) {
  if (!(chunk_ms > 0.0) || !std::isfinite(chunk_ms)) {
    std::cerr << "error: --chunk-ms must be a number greater than 0\n";
    return kExitInput;
  }
  int code = 0;
  std::optional<Graph> graph = load_graph(manifest_path, &code);
  if (!graph) return code;
  const NodeTypeInfo* source_type = Registry::global().find("AudioFileSourceNode");
  Result<Value> params = Registry::check_params(*source_type, Value::map({{"chunk_ms", Value::real(chunk_ms)}}), "$");
  if (!params.ok()) return fail(params.status());
  Result<std::unique_ptr<Node>> source = source_type->factory(*params);
  if (!source.ok()) return fail(source.status());

  // The file's length for the progress line; a file libsndfile cannot open fails in the source.
  SF_INFO info{};
  if (SNDFILE* f = sf_open(audio_path.c_str(), SFM_READ, &info)) sf_close(f);
  std::unique_ptr<ProgressLine> line;
  if (progress && info.samplerate > 0) {
    const size_t slash = audio_path.find_last_of('/');
    line = std::make_unique<ProgressLine>(slash == std::string::npos ? audio_path : audio_path.substr(slash + 1),
                                          info.frames, info.samplerate);
  }

  OutputSink sink;
  if (!sink.open(output_path)) return kExitInput;
  std::atomic<bool> unprintable{false};  // set on the thread that processes
  SessionOptions options = printing_to(sink, unprintable);
  Result<std::shared_ptr<Session>> session =
      Session::open(std::make_shared<const Graph>(std::move(*graph)), std::move(options));
  if (!session.ok()) return fail(session.status());
  SessionFeeder feeder(**session, line.get());
  Status read = (*source)->open();
  if (read.ok()) read = (*source)->process(Value::string(audio_path), feeder);
  (void)(*source)->close();
  if (!read.ok()) {
    (*session)->cancel();
    if (line) std::fputc('\n', stderr);
    std::cerr << "error: " << read.message() << "\n";
    return kExitInput;
  }
  (*session)->end();
  (*session)->wait_closed();
  if (line) line->finish();
  Status s = (*session)->error();
  if (!s.ok()) return fail(s);
  return unprintable ? kExitInput : 0;
}

int cmd_validate(const std::string& manifest_path) {
  int code = 0;
  std::optional<Graph> graph = load_graph(manifest_path, &code);
  if (!graph) return code;
  std::cout << "ok: " << graph->nodes().size() << " nodes"
            << (graph->is_chain() ? " in a chain" : " in a graph") << "\n";
  return 0;
}

int cmd_nodes(bool as_json) {
  Map types;
  // By name, as the Python command lists them.
  const auto types_of_registry = Registry::global().types();
  std::vector<const NodeTypeInfo*> sorted(types_of_registry.begin(), types_of_registry.end());
  std::sort(sorted.begin(), sorted.end(), [](const NodeTypeInfo* a, const NodeTypeInfo* b) { return a->name < b->name; });
  for (const NodeTypeInfo* info : sorted) {
    if (!as_json) {
      std::cout << info->name;
      for (const std::string& a : info->aliases) std::cout << " (alias " << a << ")";
      std::cout << "\n    " << info->description << "\n";
      for (const ParamSpec& p : info->params) {
        std::cout << "    " << p.name << ": " << param_type_name(p.type) << (p.required ? ", required" : "");
        if (!p.choices.empty()) {
          std::cout << ", one of";
          for (const std::string& c : p.choices) std::cout << " " << c;
        }
        std::cout << " - " << p.description << "\n";
      }
      continue;
    }
    List params, aliases;
    for (const std::string& a : info->aliases) aliases.push_back(Value::string(a));
    for (const ParamSpec& p : info->params) {
      List choices;
      for (const std::string& c : p.choices) choices.push_back(Value::string(c));
      params.push_back(Value::map({{"name", Value::string(p.name)},
                                   {"type", Value::string(param_type_name(p.type))},
                                   {"required", Value::boolean(p.required)},
                                   {"choices", Value::list(std::move(choices))},
                                   {"description", Value::string(p.description)}}));
    }
    types.emplace_back(info->name, Value::map({{"aliases", Value::list(std::move(aliases))},
                                               {"description", Value::string(info->description)},
                                               {"params", Value::list(std::move(params))}}));
  }
  if (as_json) std::cout << to_json(Value::map(std::move(types)), 2).value() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"remotemedia-runtime: run RemoteMedia v1 manifests natively (no Python)"};
  app.set_version_flag("--version", "remotemedia " + std::string(REMOTEMEDIA_VERSION), "Print the version and exit");
  app.require_subcommand(1);

  RunOptions o;
  std::string audio_path, log_level = "warning";
  std::vector<std::string> imports;
  bool as_json = false, no_progress = false, jsonl = false;
  double chunk_ms = 20.0;

  CLI::App* run_cmd = app.add_subcommand("run", "Run a manifest on a JSON array of items; print the outputs as JSON");
  run_cmd->add_option("manifest", o.manifest_path, "Manifest file (JSON), or - for stdin")->required();
  CLI::Option* input_opt =
      run_cmd->add_option("-i,--input", o.input_path, "JSON array of items: a file, or - for stdin (default)");
  CLI::Option* audio_opt = run_cmd->add_option(
      "--audio", audio_path, "Stream an audio file (WAV, FLAC, Ogg, ...) through the pipeline in chunks; outputs as JSON lines");
  CLI::Option* chunk_opt = run_cmd->add_option("--chunk-ms", chunk_ms, "With --audio: milliseconds per chunk (default 20)");
  run_cmd->add_flag("--no-progress", no_progress, "With --audio: no progress line on stderr");
  run_cmd->add_flag(
      "--jsonl", jsonl, "Read one JSON item per line as it arrives; write one output per line as it is produced");
  run_cmd->add_option("-o,--output", o.output_path, "Write the outputs to this file instead of stdout");
  run_cmd->add_flag("--pretty", o.pretty, "Indent the output");
  run_cmd->add_option("--max-input-bytes", o.limits.max_bytes,
                      "Largest input (or --jsonl line) in bytes (default and most 16777216)")
      ->check(CLI::Range(size_t{1}, kMaxJsonBytes));
  run_cmd->add_option("--max-depth", o.limits.max_depth,
                      "Deepest nesting of arrays and objects in the input (default and most 64)")
      ->check(CLI::Range(1, kMaxJsonDepth));
  run_cmd->add_option("--import", imports,
                      "Import a Python module (Python command only: this program refuses it)");
  run_cmd->add_option("--log-level", log_level, "Logging level: debug, info, warning, error or critical")
      ->check(CLI::IsMember({"debug", "info", "warning", "error", "critical"}, CLI::ignore_case));

  CLI::App* validate_cmd = app.add_subcommand("validate", "Check a manifest against the schema, registry and graph rules");
  validate_cmd->add_option("manifest", o.manifest_path, "Manifest file (JSON), or - for stdin")->required();

  CLI::App* nodes_cmd = app.add_subcommand("nodes", "List the node types and their parameters");
  nodes_cmd->add_flag("--json", as_json, "Print as JSON");
  for (CLI::App* cmd : {validate_cmd, nodes_cmd}) {
    cmd->add_option("--import", imports, "Import a Python module (Python command only: this program refuses it)");
    cmd->add_option("--log-level", log_level, "Logging level: debug, info, warning, error or critical")
        ->check(CLI::IsMember({"debug", "info", "warning", "error", "critical"}, CLI::ignore_case));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A usage error: exit 3 as the Python command's (argparse's own 2 would read as a node's failure).
    std::cerr << "error: " << e.what() << "\nRun with --help for more information.\n";
    return kExitInput;
  }
  // The same checks, in the same order and words, as the Python command's.
  const char* misuse = nullptr;
  if (run_cmd->parsed() && audio_opt->count() > 0 && input_opt->count() > 0) misuse = "give --input or --audio, not both";
  else if (run_cmd->parsed() && audio_opt->count() > 0 && jsonl) misuse = "give --jsonl or --audio, not both";
  else if (run_cmd->parsed() && audio_opt->count() == 0 && (chunk_opt->count() > 0 || no_progress))
    misuse = "--chunk-ms and --no-progress go with --audio";
  else if (run_cmd->parsed() && jsonl && o.pretty) misuse = "--pretty does not go with --jsonl";
  if (misuse != nullptr) {
    std::cerr << "error: " << misuse << "\n";
    return kExitInput;
  }
  if (!imports.empty()) {
    const char* command = run_cmd->parsed() ? "run" : validate_cmd->parsed() ? "validate" : "nodes";
    std::cerr << "error: this program cannot import Python modules; Python node types need the Python package: "
                 "`remotemedia "
              << command << " --import " << imports.front() << (nodes_cmd->parsed() ? "`\n" : " MANIFEST`\n");
    return kExitManifest;
  }
  if (run_cmd->parsed() && audio_opt->count() > 0) {
    return cmd_run_audio(o.manifest_path, audio_path, o.output_path, chunk_ms, !no_progress);
  }
  if (run_cmd->parsed()) return jsonl ? cmd_run_jsonl(o) : cmd_run(o);
  if (validate_cmd->parsed()) return cmd_validate(o.manifest_path);
  return cmd_nodes(as_json);
}
