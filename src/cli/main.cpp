// remotemedia-runtime: the standalone program. Runs a manifest on JSON items, validates a manifest,
// lists the node types. No Python involved.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/json.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

using namespace remotemedia;

namespace {

// Exit codes: 0 ok, 1 bad manifest, 2 a node failed, 3 bad input or I/O.
constexpr int kExitManifest = 1;
constexpr int kExitNode = 2;
constexpr int kExitInput = 3;

bool read_text(const std::string& path, std::string* out) {
  if (path == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
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
  if (!read_text(path, &text)) {
    return Status(StatusCode::kInternal, "cannot read manifest '" + path + "'");
  }
  RM_ASSIGN_OR_RETURN(Manifest manifest, parse_manifest(text));
  return Graph::compile(manifest, Registry::global());
}

int cmd_run(const std::string& manifest_path, const std::string& input_path, bool pretty) {
  Result<Graph> graph = load_graph(manifest_path);
  if (!graph.ok()) return fail(graph.status());
  std::string input_text;
  if (!read_text(input_path, &input_text)) {
    std::cerr << "error: cannot read input '" << input_path << "'\n";
    return kExitInput;
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

  std::string manifest_path, input_path = "-";
  bool pretty = false, as_json = false;

  CLI::App* run_cmd = app.add_subcommand("run", "Run a manifest on a JSON array of items; print the outputs as JSON");
  run_cmd->add_option("manifest", manifest_path, "Manifest file (JSON)")->required();
  run_cmd->add_option("-i,--input", input_path, "JSON array of items: a file, or - for stdin (default)");
  run_cmd->add_flag("--pretty", pretty, "Indent the output");

  CLI::App* validate_cmd = app.add_subcommand("validate", "Check a manifest against the schema, registry and graph rules");
  validate_cmd->add_option("manifest", manifest_path, "Manifest file (JSON)")->required();

  CLI::App* nodes_cmd = app.add_subcommand("nodes", "List the node types and their parameters");
  nodes_cmd->add_flag("--json", as_json, "Print as JSON");

  CLI11_PARSE(app, argc, argv);
  if (run_cmd->parsed()) return cmd_run(manifest_path, input_path, pretty);
  if (validate_cmd->parsed()) return cmd_validate(manifest_path);
  return cmd_nodes(as_json);
}
