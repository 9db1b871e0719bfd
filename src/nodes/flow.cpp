// The flow family: nodes that group, select, transform and route items (docs/SEMANTICS.md,
// docs/EXPRESSIONS.md). The Python executor's versions are remotemedia/nodes/flow.py.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "remotemedia/expression.h"
#include "remotemedia/json.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia {

namespace {

void append(std::vector<Value>& items, std::vector<Value>& out) {
  if (out.empty()) out.swap(items);
  else for (Value& v : items) out.push_back(std::move(v));
}

Status param_error(std::string message, std::string path) {
  return std::move(Status(StatusCode::kInvalidParameter, std::move(message)).with_path(std::move(path)));
}

// An expression parameter, parsed; a syntax error names the parameter's path.
Result<Expression> parse_param(const Value& text, const std::string& path) {
  Result<Expression> e = Expression::parse(text.as_string());
  if (!e.ok()) return param_error(e.status().message(), path);
  return e;
}

// ------------------------------------------------------------------------------------ Buffer

// Emits a list of every `buffer_size` items; at end of input, the remainder (if any).
//
// The list grows as items come: buffer_size may be any int64 (as on the Python executor), and
// reserving it up front would throw bad_alloc for a huge one. Only a small size is reserved.
class BufferNode final : public Node {
 public:
  explicit BufferNode(size_t size) : size_(size), reserve_(std::min<size_t>(size, kMaxReserve)) {
    held_.reserve(reserve_);
  }

  Status process(Value item, Emitter& out) override {
    held_.push_back(std::move(item));
    if (held_.size() == size_) out.emit(take());
    return Status::OK();
  }

  Status process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t*) override {
    for (Value& item : items) {
      held_.push_back(std::move(item));
      if (held_.size() == size_) out.push_back(take());
    }
    return Status::OK();
  }

  Status flush(Emitter& out) override {
    if (!held_.empty()) out.emit(take());
    return Status::OK();
  }

 private:
  Value take() {
    Value list = Value::list(std::move(held_));
    held_ = List();
    held_.reserve(reserve_);
    return list;
  }

  static constexpr size_t kMaxReserve = 1024;
  size_t size_;
  size_t reserve_;
  List held_;
};

// ------------------------------------------------------------------------------------ Filter

class FilterNode final : public Node {
 public:
  explicit FilterNode(Expression condition) : condition_(std::move(condition)) {}

  Status process(Value item, Emitter& out) override {
    bool keep = false;
    RM_RETURN_IF_ERROR(condition_.evaluate_truth(item, &keep));
    if (keep && !item.is_null()) out.emit(std::move(item));  // None is never an output
    return Status::OK();
  }
  Status process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t* failed_at) override {
    Status s = condition_.filter_batch(items, failed_at);
    append(items, out);
    return s;
  }
  Status process_column(const Ref<NDArray>& column, Ref<NDArray>* out, size_t* failed_at) override {
    return condition_.filter_column(*column, out, failed_at);
  }

 private:
  Expression condition_;
};

// --------------------------------------------------------------------------------------- Map

// Emits the expression's value for each item; a None value emits nothing, as a Python node's
// None return does.
class MapNode final : public Node {
 public:
  explicit MapNode(Expression expression) : expression_(std::move(expression)) {}

  Status process(Value item, Emitter& out) override {
    Value result;
    RM_RETURN_IF_ERROR(expression_.evaluate(item, &result));
    if (!result.is_null()) out.emit(std::move(result));
    return Status::OK();
  }
  Status process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t* failed_at) override {
    Status s = expression_.evaluate_batch(items, failed_at);
    std::erase_if(items, [](const Value& v) { return v.is_null(); });
    append(items, out);
    return s;
  }
  Status process_column(const Ref<NDArray>& column, Ref<NDArray>* out, size_t* failed_at) override {
    return expression_.evaluate_column(*column, out, failed_at);
  }

 private:
  Expression expression_;
};

// ------------------------------------------------------------------------------------ Router

// Routes, checked and parsed: each `when` with the index of its `to` port; ports in first-use
// order, then the default port if it is new.
struct RouteTable {
  std::vector<std::pair<Expression, size_t>> routes;
  std::vector<std::string> ports;
  std::optional<size_t> default_port;
};

Result<RouteTable> route_table(const Value& params, const std::string& params_path) {
  RouteTable t;
  auto port_index = [&t](const std::string& name) {
    for (size_t p = 0; p < t.ports.size(); ++p) {
      if (t.ports[p] == name) return p;
    }
    t.ports.push_back(name);
    return t.ports.size() - 1;
  };
  const List& routes = params.find("routes")->as_list();
  const std::string routes_path = params_path + ".routes";
  for (size_t r = 0; r < routes.size(); ++r) {
    const std::string path = routes_path + "[" + std::to_string(r) + "]";
    const Value& route = routes[r];
    if (!route.is_map()) return param_error("a route must be an object {\"when\": ..., \"to\": ...}", path);
    for (const auto& [key, unused] : route.as_map()) {
      if (key != "when" && key != "to") return param_error("unknown key " + quote(key) + " in a route", key_path(path, key));
    }
    const Value* when = route.find("when");
    const Value* to = route.find("to");
    if (when == nullptr || !when->is_string()) return param_error("a route needs \"when\": an expression", path + ".when");
    if (to == nullptr || !to->is_string() || to->as_string().empty()) {
      return param_error("a route needs \"to\": a port name", path + ".to");
    }
    RM_ASSIGN_OR_RETURN(Expression e, parse_param(*when, path + ".when"));
    t.routes.emplace_back(std::move(e), port_index(to->as_string()));
  }
  const Value* fallback = params.find("default");
  if (fallback != nullptr && !fallback->is_null()) {
    if (!fallback->is_string() || fallback->as_string().empty()) {
      return param_error("'default' must be a port name or null", params_path + ".default");
    }
    t.default_port = port_index(fallback->as_string());
  }
  if (t.ports.empty()) return param_error("a router needs at least one route or a default", routes_path);
  return t;
}

// Sends each item to the port of the first route whose condition holds, else to the default port,
// else nowhere.
class RouterNode final : public Node {
 public:
  explicit RouterNode(RouteTable table) : table_(std::move(table)) {}

  Status process(Value item, Emitter& out) override {
    for (const auto& [when, port] : table_.routes) {
      bool matched = false;
      RM_RETURN_IF_ERROR(when.evaluate_truth(item, &matched));
      if (matched) {
        out.emit_to(port, std::move(item));
        return Status::OK();
      }
    }
    if (table_.default_port) out.emit_to(*table_.default_port, std::move(item));
    return Status::OK();
  }

 private:
  RouteTable table_;
};

template <typename N>
NodeFactory expression_node(const char* param) {
  return [param](const Value& params) -> Result<std::unique_ptr<Node>> {
    RM_ASSIGN_OR_RETURN(Expression e, Expression::parse(params.find(param)->as_string()));
    return std::unique_ptr<Node>(std::make_unique<N>(std::move(e)));
  };
}

ParamsCheck expression_check(const char* param) {
  return [param](const Value& params, const std::string& params_path) -> Status {
    Result<Expression> e = parse_param(*params.find(param), key_path(params_path, param));
    return e.ok() ? Status::OK() : e.take_status();
  };
}

}  // namespace

void register_flow_nodes(Registry& registry) {
  (void)registry.add(NodeTypeInfo{
      "BufferNode",
      {"Buffer"},
      "Groups items into lists of buffer_size; the remainder is emitted at end of input.",
      {ParamSpec{"buffer_size", ParamType::kInt, true, Value(), {}, "Items per emitted list (at least 1).", 1.0}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        return std::unique_ptr<Node>(
            std::make_unique<BufferNode>(static_cast<size_t>(params.find("buffer_size")->as_int())));
      },
  });
  (void)registry.add(NodeTypeInfo{
      "FilterNode",
      {"Filter"},
      "Keeps the items for which the condition (an expression) is true.",
      {ParamSpec{"condition", ParamType::kString, true, Value(), {}, "An expression of `item` (docs/EXPRESSIONS.md)."}},
      expression_node<FilterNode>("condition"),
      nullptr,
      expression_check("condition"),
  });
  (void)registry.add(NodeTypeInfo{
      "MapNode",
      {"Map"},
      "Emits the value of the expression for each item (a None value emits nothing).",
      {ParamSpec{"expression", ParamType::kString, true, Value(), {}, "An expression of `item` (docs/EXPRESSIONS.md)."}},
      expression_node<MapNode>("expression"),
      nullptr,
      expression_check("expression"),
  });
  (void)registry.add(NodeTypeInfo{
      "RouterNode",
      {"Router"},
      "Sends each item to the output port of the first route whose condition holds, else to the default port.",
      {ParamSpec{"routes", ParamType::kList, true, Value(), {}, "[{\"when\": expression, \"to\": port}, ...], tried in order."},
       ParamSpec{"default", ParamType::kAny, false, Value(), {}, "The port for items no route takes; null drops them."}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        RM_ASSIGN_OR_RETURN(RouteTable t, route_table(params, "$.params"));
        return std::unique_ptr<Node>(std::make_unique<RouterNode>(std::move(t)));
      },
      [](const Value& params) -> Result<std::vector<std::string>> {
        RM_ASSIGN_OR_RETURN(RouteTable t, route_table(params, "$.params"));
        return t.ports;
      },
      [](const Value& params, const std::string& params_path) -> Status {
        Result<RouteTable> t = route_table(params, params_path);
        return t.ok() ? Status::OK() : t.take_status();
      },
  });
}

}  // namespace remotemedia
