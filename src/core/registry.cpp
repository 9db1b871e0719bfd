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
    return Status(StatusCode::kInvalidParameter, "node type '" + info.name + "' is already registered");
  }
  for (const std::string& alias : info.aliases) {
    if (by_name_.count(alias)) {
      return Status(StatusCode::kInvalidParameter, "node type alias '" + alias + "' is already registered");
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
      return "must be one of " + allowed + "; got '" + v.as_string() + "'";
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

}  // namespace

Result<Value> Registry::check_params(const NodeTypeInfo& info, const Value& params,
                                     const std::string& params_path) {
  const Map empty;
  const Map& given = params.is_map() ? params.as_map() : empty;
  for (const auto& [name, unused] : given) {
    if (info.param(name) == nullptr) {
      return param_error("unknown parameter '" + name + "' for " + info.name, key_path(params_path, name));
    }
  }
  Map filled;
  for (const ParamSpec& spec : info.params) {
    const Value* v = params.find(spec.name);
    if (v == nullptr) {
      if (spec.required) {
        return param_error("missing required parameter '" + spec.name + "' for " + info.name, params_path);
      }
      filled.emplace_back(spec.name, spec.default_value);
      continue;
    }
    std::string problem = type_problem(spec, *v);
    if (problem.empty() && spec.minimum && (v->is_int() || v->is_float())) {
      const double x = v->is_int() ? static_cast<double>(v->as_int()) : v->as_float();
      if (x < *spec.minimum) problem = "must be at least " + format_minimum(*spec.minimum);
    }
    if (problem.empty() && spec.maximum && (v->is_int() || v->is_float())) {
      const double x = v->is_int() ? static_cast<double>(v->as_int()) : v->as_float();
      if (x > *spec.maximum) problem = "must be at most " + format_minimum(*spec.maximum);
    }
    if (!problem.empty()) {
      return param_error("parameter '" + spec.name + "' " + problem, key_path(params_path, spec.name));
    }
    filled.emplace_back(spec.name, *v);
  }
  return Value::map(std::move(filled));
}

}  // namespace remotemedia
