// Registry: node type name -> factory, aliases, parameter schema and a one-line description.
//
// The CLI lists it, the Python binding publishes it (node_types()), and manifests are checked
// against it. Lookups and registrations may happen from several threads (a server registers while
// sessions run), so it is guarded; NodeTypeInfo addresses stay valid for the registry's lifetime.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "remotemedia/node.h"
#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia {

enum class ParamType : uint8_t { kInt, kNumber, kString, kBool, kList, kMap, kAny };
const char* param_type_name(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kAny;
  bool required = false;
  Value default_value;                // used when the parameter is absent and not required
  std::vector<std::string> choices;   // allowed values of a string parameter; empty = any
  std::string description;
  std::optional<double> minimum = std::nullopt;  // smallest allowed value of an int or number
  std::optional<double> maximum = std::nullopt;  // largest allowed value of an int or number
};

// Makes a node instance from parameters that already passed check_params (defaults filled in).
using NodeFactory = std::function<Result<std::unique_ptr<Node>>(const Value& params)>;

// The names of a node's output ports, from its checked parameters (a router's depend on its
// routes). Index i is the port a node addresses with Emitter::emit_to(i, ...).
using PortsFunction = std::function<Result<std::vector<std::string>>(const Value& params)>;

// Checks what a parameter schema cannot say (an expression's syntax, the shape of a route list),
// when the graph is compiled. `params_path` is "$.nodes[i].params"; errors carry full paths.
using ParamsCheck = std::function<Status(const Value& params, const std::string& params_path)>;

// The port every single-output node has.
inline const std::string kDefaultPort = "out";

struct NodeTypeInfo {
  std::string name;
  std::vector<std::string> aliases;
  std::string description;
  std::vector<ParamSpec> params;
  NodeFactory factory;
  PortsFunction output_ports = nullptr;  // empty: one port, "out"
  ParamsCheck check = nullptr;           // empty: the schema says it all

  const ParamSpec* param(std::string_view param_name) const;
};

class Registry {
 public:
  Registry() = default;
  // The process-wide registry with every built-in node type.
  static Registry& global();

  // Rejects a name or alias that is already taken.
  Status add(NodeTypeInfo info);
  // By name or alias; nullptr when unknown.
  const NodeTypeInfo* find(std::string_view name) const;
  std::vector<const NodeTypeInfo*> types() const;

  // The first problem with `params` (a map): unknown names in the order given, then each declared
  // parameter in declaration order (missing when required, then its type). The error path is
  // `params_path` or `params_path.<name>`. Returns the parameters with defaults filled in.
  static Result<Value> check_params(const NodeTypeInfo& info, const Value& params,
                                    const std::string& params_path);

  // check_params and then the type's own check, reporting the first problem in declaration order:
  // a fault the own check finds in a parameter declared before the one the schema faults comes
  // first (docs/SEMANTICS.md, "Error messages"). The own check is then asked with the parameters
  // from the faulted one on as given where they pass the schema and at their defaults where not;
  // if one of those is required, it is not asked. The Python twin is NodeTypeSpec.check_params.
  static Result<Value> validate_params(const NodeTypeInfo& info, const Value& params,
                                       const std::string& params_path);

 private:
  mutable std::shared_mutex mutex_;
  std::deque<NodeTypeInfo> infos_;
  std::unordered_map<std::string, const NodeTypeInfo*> by_name_;
};

// Registers the built-in node families (src/nodes/).
void register_builtin_nodes(Registry& registry);

}  // namespace remotemedia
