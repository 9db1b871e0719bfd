// remotemedia-runtime: the standalone program. Runs a manifest on JSON items or on an audio file,
// validates a manifest, lists the node types. No Python involved.
#include <CLI/CLI.hpp>
#include <sndfile.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/json.h"
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

// Reads at most kMaxJsonBytes + 1 bytes: a larger text fails the size limit whatever follows, so an
// endless stream (/dev/zero, a pipe that never closes) is refused at the limit instead of being
// read into memory. The Python command (python/remotemedia/cli.py) reads the same way.
ReadResult read_text(const std::string& path, std::string* out) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return ReadResult::kUnreadable;
    in = &file;
  }
  out->resize(kMaxJsonBytes + 1);
  in->read(out->data(), static_cast<std::streamsize>(out->size()));
  if (in->bad()) return ReadResult::kUnreadable;
  out->resize(static_cast<size_t>(in->gcount()));
  return out->size() > kMaxJsonBytes ? ReadResult::kTooLarge : ReadResult::kOk;
}

// The same words as the Python command's.
std::string too_large(const std::string& what) {
  return what + " is more than the 16 MiB limit (" + std::to_string(kMaxJsonBytes) + " bytes)";
}

int fail(const Status& s) {
  std::cerr << "error: " << status_code_name(s.code()) << ": " << s.to_string() << "\n";
  if (s.code() == StatusCode::kUnknownNodeType) {
    std::cerr << "note: this program runs native node types only (see `remotemedia-runtime nodes`); "
                 "a Python node type needs the Python package: `remotemedia run MANIFEST`\n";
  }
  switch (s.code()) {
    case StatusCode::kManifestError:
    case StatusCode::kUnknownNodeType:
    case StatusCode::kInvalidParameter:
    case StatusCode::kGraphError: return kExitManifest;
    default: return kExitNode;
  }
}

Result<Graph> load_graph(const std::string& path) {
  std::string text;
  switch (read_text(path, &text)) {
    case ReadResult::kUnreadable: return Status(StatusCode::kInternal, "cannot read manifest '" + path + "'");
    case ReadResult::kTooLarge: return ManifestError(too_large("manifest text"), "$");
    case ReadResult::kOk: break;
  }
  RM_ASSIGN_OR_RETURN(Manifest manifest, parse_manifest(text));
  return Graph::compile(manifest, Registry::global());
}

int cmd_run(const std::string& manifest_path, const std::string& input_path, bool pretty) {
  Result<Graph> graph = load_graph(manifest_path);
  if (!graph.ok()) return fail(graph.status());
  std::string input_text;
  switch (read_text(input_path, &input_text)) {
    case ReadResult::kUnreadable: std::cerr << "error: cannot read input '" << input_path << "'\n"; return kExitInput;
    case ReadResult::kTooLarge: std::cerr << "error: " << too_large("input") << "\n"; return kExitInput;
    case ReadResult::kOk: break;
  }
  Result<Value> items = parse_json(input_text);
  if (!items.ok() || !items->is_list()) {
    std::cerr << "error: input must be a JSON array of items"
              << (items.ok() ? std::string() : ": " + items.status().message()) << "\n";
    return kExitInput;
  }
  Result<std::vector<Value>> out = run(graph.value(), items->as_list());
  if (!out.ok()) return fail(out.status());
  Result<std::string> text = to_json(Value::list(std::move(out).value()), pretty ? 2 : -1);
  if (!text.ok()) {
    std::cerr << "error: output has no JSON form: " << text.status().message() << "\n";
    return kExitInput;
  }
  std::cout << text.value() << "\n";
  return 0;
}

// ------------------------------------------------------------------------------ run --audio

// An output as JSON data, as `remotemedia run --audio` prints it: Audio summarised, non-finite
// floats as null (JSON has none).
Value jsonable(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kFloat: return std::isfinite(v.as_float()) ? v : Value();
    case ValueKind::kAudio: {
      const AudioBuffer& a = v.as_audio();
      return Value::map({{"audio", Value::map({{"sample_rate", Value::integer(a.sample_rate())},
                                               {"channels", Value::integer(a.channels())},
                                               {"frames", Value::integer(a.frames())},
                                               {"dtype", Value::string(dtype_name(a.dtype()))},
                                               {"duration", Value::real(a.duration_seconds())}})}});
    }
    case ValueKind::kList: {
      List items;
      for (const Value& x : v.as_list()) items.push_back(jsonable(x));
      return Value::list(std::move(items));
    }
    case ValueKind::kMap: {
      Map entries;
      for (const auto& [k, x] : v.as_map()) entries.emplace_back(k, jsonable(x));
      return Value::map(std::move(entries));
    }
    default: return v;
  }
}

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
int cmd_run_audio(const std::string& manifest_path, const std::string& audio_path, double chunk_ms, bool progress) {
  if (!(chunk_ms > 0.0) || !std::isfinite(chunk_ms)) {
    std::cerr << "error: --chunk-ms must be a number greater than 0\n";
    return kExitInput;
  }
  Result<Graph> graph = load_graph(manifest_path);
  if (!graph.ok()) return fail(graph.status());
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

  std::atomic<bool> unprintable{false};  // set on the thread that processes
  SessionOptions options;
  options.on_output = [&unprintable](Value out) {
    Result<std::string> text = to_json(jsonable(out));
    if (!text.ok()) {
      unprintable = true;
      std::cerr << "error: output has no JSON form: " << text.status().message() << "\n";
      return;
    }
    std::cout << text.value() << "\n" << std::flush;
  };
  Result<std::shared_ptr<Session>> session =
      Session::open(std::make_shared<const Graph>(std::move(graph).value()), std::move(options));
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
  Result<Graph> graph = load_graph(manifest_path);
  if (!graph.ok()) return fail(graph.status());
  std::cout << "ok: " << graph->nodes().size() << " nodes"
            << (graph->is_chain() ? " in a chain" : " in a graph") << "\n";
  return 0;
}

int cmd_nodes(bool as_json) {
  Map types;
  for (const NodeTypeInfo* info : Registry::global().types()) {
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
  CLI::App app{"remotemedia-runtime: run RemoteMedia v1 manifests natively"};
  app.set_version_flag("--version", std::string(REMOTEMEDIA_VERSION));
  app.require_subcommand(1);

  std::string manifest_path, input_path = "-", audio_path;
  bool pretty = false, as_json = false, no_progress = false;
  double chunk_ms = 20.0;

  CLI::App* run_cmd = app.add_subcommand("run", "Run a manifest on a JSON array of items; print the outputs as JSON");
  run_cmd->add_option("manifest", manifest_path, "Manifest file (JSON)")->required();
  CLI::Option* input_opt =
      run_cmd->add_option("-i,--input", input_path, "JSON array of items: a file, or - for stdin (default)");
  CLI::Option* audio_opt = run_cmd->add_option(
      "--audio", audio_path, "Stream an audio file (WAV, FLAC, Ogg, ...) through the pipeline in chunks; outputs as JSON lines");
  audio_opt->excludes(input_opt);
  run_cmd->add_option("--chunk-ms", chunk_ms, "With --audio: milliseconds per chunk (default 20)")->needs(audio_opt);
  run_cmd->add_flag("--no-progress", no_progress, "With --audio: no progress line on stderr")->needs(audio_opt);
  run_cmd->add_flag("--pretty", pretty, "Indent the output");

  CLI::App* validate_cmd = app.add_subcommand("validate", "Check a manifest against the schema, registry and graph rules");
  validate_cmd->add_option("manifest", manifest_path, "Manifest file (JSON)")->required();

  CLI::App* nodes_cmd = app.add_subcommand("nodes", "List the node types and their parameters");
  nodes_cmd->add_flag("--json", as_json, "Print as JSON");

  CLI11_PARSE(app, argc, argv);
  if (run_cmd->parsed() && audio_opt->count() > 0) return cmd_run_audio(manifest_path, audio_path, chunk_ms, !no_progress);
  if (run_cmd->parsed()) return cmd_run(manifest_path, input_path, pretty);
  if (validate_cmd->parsed()) return cmd_validate(manifest_path);
  return cmd_nodes(as_json);
}
