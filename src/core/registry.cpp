#include "remotemedia/registry.h"

#include <cmath>
#include <mutex>

#include <nlohmann/json.hpp>

#include "remotemedia/json.h"

namespace remotemedia {

const char* param_type_name(ParamType type) {
  switch (type) {
    case ParamType::kInt: return "int";
    case ParamType::kNumber: return "number";
    case ParamType::kString: return "string";
    case ParamType::kBool: return "bool";
    case ParamType::kList: return "list";
    case ParamType::kMap: return "map";
    case ParamType::kAny: return "any";
  }
  return "any";
}

const ParamSpec* NodeTypeInfo::param(std::string_view param_name) const {
  for (const ParamSpec& p : params) {
    if (p.name == param_name) return &p;
  }
  return nullptr;
}

Registry& Registry::global() {
  static Registry* registry = [] {
    auto* r = new Registry();  // never destroyed: node types outlive every static user
    register_builtin_nodes(*r);
    return r;
  }();
  return *registry;
}

Status Registry::add(NodeTypeInfo info) {
  std::unique_lock lock(mutex_);
  if (by_name_.count(info.name)) {
    return Status(StatusCode::kInvalidParameter, "node type " + quote(info.name) + " is already registered");
  }
  for (const std::string& alias : info.aliases) {
    if (by_name_.count(alias)) {
      return Status(StatusCode::kInvalidParameter, "node type alias " + quote(alias) + " is already registered");
    }
  }
  const NodeTypeInfo& stored = infos_.emplace_back(std::move(info));
  by_name_[stored.name] = &stored;
  for (const std::string& alias : stored.aliases) by_name_[alias] = &stored;
  return Status::OK();
}

const NodeTypeInfo* Registry::find(std::string_view name) const {
  std::shared_lock lock(mutex_);
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<const NodeTypeInfo*> Registry::types() const {
  std::shared_lock lock(mutex_);
  std::vector<const NodeTypeInfo*> out;
  for (const NodeTypeInfo& info : infos_) out.push_back(&info);
  return out;
}

namespace {

bool is_big_integer(const Value& v) { return v.is_object() && v.as_object().is_big_integer(); }

// Why `v` does not fit `spec`, or "" when it does. Wording matches core/params.py.
std::string type_problem(const ParamSpec& spec, const Value& v) {
  switch (spec.type) {
    case ParamType::kInt:
      if (is_big_integer(v)) return "must fit in int64";
      if (!v.is_int()) return std::string("must be an integer, got ") + json_type_name(v);
      return "";
    case ParamType::kNumber:
      if (is_big_integer(v)) return "must fit in int64";
      if (!v.is_int() && !v.is_float()) return std::string("must be a number, got ") + json_type_name(v);
      // As the Python twin says. A NaN would also pass every bound check (it compares false).
      if (v.is_float() && !std::isfinite(v.as_float())) return "must be finite (JSON has no inf or nan)";
      return "";
    case ParamType::kString: {
      if (!v.is_string()) return std::string("must be a string, got ") + json_type_name(v);
      if (spec.choices.empty()) return "";
      std::string allowed;
      for (const std::string& c : spec.choices) {
        if (c == v.as_string()) return "";
        allowed += (allowed.empty() ? "" : ", ") + c;
      }
      return "must be one of " + allowed + "; got " + quote(v.as_string());
    }
    case ParamType::kBool:
      return v.is_bool() ? "" : std::string("must be a boolean, got ") + json_type_name(v);
    case ParamType::kList:
      return v.is_list() ? "" : std::string("must be a list, got ") + json_type_name(v);
    case ParamType::kMap:
      return v.is_map() ? "" : std::string("must be an object, got ") + json_type_name(v);
    case ParamType::kAny: return "";
  }
  return "";
}

// As Python's str() of the number: 1, not 1.000000 (the Python side words it the same way).
std::string format_minimum(double m) {
  if (m == static_cast<double>(static_cast<int64_t>(m))) return std::to_string(static_cast<int64_t>(m));
  return nlohmann::json(m).dump();
}

Status param_error(std::string message, std::string path) {
  return std::move(Status(StatusCode::kInvalidParameter, std::move(message)).with_path(std::move(path)));
}

// Why a given value of `spec` fails its schema (type, then bounds), or "".
std::string value_problem(const ParamSpec& spec, const Value& v) {
  std::string problem = type_problem(spec, v);
  if (problem.empty() && spec.minimum && (v.is_int() || v.is_float())) {
    const double x = v.is_int() ? static_cast<double>(v.as_int()) : v.as_float();
    if (x < *spec.minimum) problem = "must be at least " + format_minimum(*spec.minimum);
  }
  if (problem.empty() && spec.maximum && (v.is_int() || v.is_float())) {
    const double x = v.is_int() ? static_cast<double>(v.as_int()) : v.as_float();
    if (x > *spec.maximum) problem = "must be at most " + format_minimum(*spec.maximum);
  }
  return problem;
}

// check_params; on a fault of a declared parameter, `*failed` is its index (else params.size()).
Result<Value> check_schema(const NodeTypeInfo& info, const Value& params, const std::string& params_path,
                           size_t* failed) {
  *failed = info.params.size();
  const Map empty;
  const Map& given = params.is_map() ? params.as_map() : empty;
  for (const auto& [name, unused] : given) {
    if (info.param(name) == nullptr) {
      return param_error("unknown parameter " + quote(name) + " for " + info.name, key_path(params_path, name));
    }
  }
  Map filled;
  for (size_t k = 0; k < info.params.size(); ++k) {
    const ParamSpec& spec = info.params[k];
    const Value* v = params.find(spec.name);
    if (v == nullptr) {
      if (spec.required) {
        *failed = k;
        return param_error("missing required parameter " + quote(spec.name) + " for " + info.name, params_path);
      }
      filled.emplace_back(spec.name, spec.default_value);
      continue;
    }
    if (std::string problem = value_problem(spec, *v); !problem.empty()) {
      *failed = k;
      return param_error("parameter " + quote(spec.name) + " " + problem, key_path(params_path, spec.name));
    }
    filled.emplace_back(spec.name, *v);
  }
  return Value::map(std::move(filled));
}

// The index of the declared parameter an error path points into (params_path.name, .name[0].x,
// params_path["odd name"]...), or params.size() for the parameters as a whole.
size_t param_index(const NodeTypeInfo& info, const std::string& path, const std::string& params_path) {
  for (size_t k = 0; k < info.params.size(); ++k) {
    const std::string at = key_path(params_path, info.params[k].name);
    if (path.compare(0, at.size(), at) == 0 && (path.size() == at.size() || path[at.size()] == '.' ||
                                                path[at.size()] == '[')) {
      return k;
    }
  }
  return info.params.size();
}

}  // namespace

Result<Value> Registry::check_params(const NodeTypeInfo& info, const Value& params,
                                     const std::string& params_path) {
  size_t failed;
  return check_schema(info, params, params_path, &failed);
}

Result<Value> Registry::validate_params(const NodeTypeInfo& info, const Value& params,
                                        const std::string& params_path) {
  size_t failed;
  Result<Value> checked = check_schema(info, params, params_path, &failed);
  if (checked.ok()) {
    if (info.check) RM_RETURN_IF_ERROR(info.check(checked.value(), params_path));
    return checked;
  }
  if (!info.check || failed >= info.params.size()) return checked;
  // Would the node's own check fault a parameter declared before the one the schema faults? Ask it
  // with the parameters from the faulty one on as given where they pass the schema and at their
  // defaults where not; a required one that does not pass leaves nothing safe to ask with.
  Map probe;
  for (size_t k = 0; k < info.params.size(); ++k) {
    const ParamSpec& spec = info.params[k];
    const Value* v = params.find(spec.name);
    if (v != nullptr && (k < failed || value_problem(spec, *v).empty())) {
      probe.emplace_back(spec.name, *v);
    } else if (spec.required) {
      return checked;
    } else {
      probe.emplace_back(spec.name, spec.default_value);
    }
  }
  Status earlier = info.check(Value::map(std::move(probe)), params_path);
  if (!earlier.ok() && param_index(info, earlier.path(), params_path) < failed) return earlier;
  return checked;
}

}  // namespace remotemedia
