#include "remotemedia/manifest.h"

#include <initializer_list>

#include "remotemedia/json.h"

namespace remotemedia {

namespace {

std::string index_path(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

// `what` is "top-level key" or "key in a node" and so on: "unknown top-level key 'edges' (allowed: ...)".
Status check_keys(const Value& object, std::initializer_list<const char*> allowed,
                  const std::string& path, const char* what, const char* what_after = "") {
  for (const auto& [key, unused] : object.as_map()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return ManifestError(std::string("unknown ") + what + " " + quote(key) + what_after + " (allowed: " + list +
                               ")",
                           key_path(path, key));
    }
  }
  return Status::OK();
}

// A required, non-empty string field of a node or connection (`what`).
Result<std::string> required_name(const Value& object, const char* key, const std::string& path,
                                  const char* what) {
  const Value* v = object.find(key);
  const std::string field_path = path + "." + key;
  const std::string field = std::string(what) + " " + quote(key);
  if (v == nullptr) return ManifestError(field + " is missing", field_path);
  if (!v->is_string()) {
    return ManifestError(field + " must be a non-empty string, got " + json_type_name(*v), field_path);
  }
  if (v->as_string().empty()) return ManifestError(field + " must be a non-empty string, got ''", field_path);
  return v->as_string();
}

Result<NodeSpec> parse_node(const Value& node, const std::string& path) {
  if (!node.is_map()) return ManifestError(std::string("a node must be an object, got ") + json_type_name(node), path);
  RM_RETURN_IF_ERROR(check_keys(node, {"id", "node_type", "params", "capabilities", "host", "runtime_hint"},
                                path, "key", " in a node"));
  NodeSpec spec;
  RM_ASSIGN_OR_RETURN(spec.id, required_name(node, "id", path, "node"));
  RM_ASSIGN_OR_RETURN(spec.node_type, required_name(node, "node_type", path, "node"));
  spec.params = Value::map({});
  if (const Value* params = node.find("params")) {
    if (!params->is_map()) {
      return ManifestError(std::string("'params' must be an object, got ") + json_type_name(*params), path + ".params");
    }
    spec.params = *params;
  }
  if (const Value* caps = node.find("capabilities")) {
    if (!caps->is_map()) {
      return ManifestError(std::string("'capabilities' must be an object, got ") + json_type_name(*caps),
                           path + ".capabilities");
    }
    spec.capabilities = *caps;
  }
  if (const Value* host = node.find("host")) {
    if (!host->is_string()) {
      return ManifestError(std::string("'host' must be a string, got ") + json_type_name(*host), path + ".host");
    }
    spec.host = host->as_string();
  }
  if (const Value* hint = node.find("runtime_hint")) {
    const std::string hint_path = path + ".runtime_hint";
    if (!hint->is_string()) {
      return ManifestError(std::string("'runtime_hint' must be a string, got ") + json_type_name(*hint), hint_path);
    }
    const std::string& h = hint->as_string();
    if (h == "auto") spec.runtime_hint = RuntimeHint::kAuto;
    else if (h == "native") spec.runtime_hint = RuntimeHint::kNative;
    else if (h == "python") spec.runtime_hint = RuntimeHint::kPython;
    else return ManifestError("'runtime_hint' must be one of auto, native, python; got " + quote(h), hint_path);
  }
  return spec;
}

Result<Connection> parse_connection(const Value& c, const std::string& path) {
  if (!c.is_map()) {
    return ManifestError(std::string("a connection must be an object {\"from\": ..., \"to\": ...}, got ") +
                             json_type_name(c),
                         path);
  }
  RM_RETURN_IF_ERROR(check_keys(c, {"from", "to", "from_port"}, path, "key", " in a connection"));
  Connection conn;
  RM_ASSIGN_OR_RETURN(conn.from, required_name(c, "from", path, "connection"));
  RM_ASSIGN_OR_RETURN(conn.to, required_name(c, "to", path, "connection"));
  if (c.find("from_port") != nullptr) {
    RM_ASSIGN_OR_RETURN(conn.from_port, required_name(c, "from_port", path, "connection"));
  }
  return conn;
}

}  // namespace

Result<Manifest> manifest_from_value(const Value& doc) {
  if (!doc.is_map()) {
    return ManifestError(std::string("a manifest must be a JSON object, got ") + json_type_name(doc), "$");
  }
  RM_RETURN_IF_ERROR(check_keys(doc, {"version", "metadata", "nodes", "connections"}, "$", "top-level key"));

  Manifest m;
  const Value* version = doc.find("version");
  if (version == nullptr) return ManifestError("'version' is missing (expected 'v1')", "$.version");
  if (!version->is_string()) {
    return ManifestError(std::string("'version' must be the string 'v1', got ") + json_type_name(*version),
                         "$.version");
  }
  if (version->as_string() != "v1") {
    return ManifestError("unsupported version " + quote(version->as_string()) + " (expected 'v1')", "$.version");
  }
  m.version = version->as_string();

  if (const Value* metadata = doc.find("metadata")) {
    if (!metadata->is_map()) {
      return ManifestError(std::string("'metadata' must be an object, got ") + json_type_name(*metadata), "$.metadata");
    }
    if (const Value* name = metadata->find("name")) {
      if (!name->is_string()) {
        return ManifestError(std::string("'metadata.name' must be a string, got ") + json_type_name(*name),
                             "$.metadata.name");
      }
      m.name = name->as_string();
    }
    m.metadata = *metadata;
  }

  const Value* nodes = doc.find("nodes");
  if (nodes == nullptr) return ManifestError("'nodes' is missing (an array of nodes)", "$.nodes");
  if (!nodes->is_list()) {
    return ManifestError(std::string("'nodes' must be an array, got ") + json_type_name(*nodes), "$.nodes");
  }
  m.nodes.reserve(nodes->as_list().size());
  for (size_t i = 0; i < nodes->as_list().size(); ++i) {
    RM_ASSIGN_OR_RETURN(NodeSpec spec, parse_node(nodes->as_list()[i], index_path("$.nodes", i)));
    m.nodes.push_back(std::move(spec));
  }

  if (const Value* conns = doc.find("connections")) {
    if (!conns->is_list()) {
      return ManifestError(std::string("'connections' must be an array, got ") + json_type_name(*conns),
                           "$.connections");
    }
    std::vector<Connection> parsed;
    parsed.reserve(conns->as_list().size());
    for (size_t j = 0; j < conns->as_list().size(); ++j) {
      RM_ASSIGN_OR_RETURN(Connection c, parse_connection(conns->as_list()[j], index_path("$.connections", j)));
      parsed.push_back(std::move(c));
    }
    m.connections = std::move(parsed);
  }
  return m;
}

Result<Manifest> parse_manifest(std::string_view json_text) {
  RM_ASSIGN_OR_RETURN(Value doc, parse_json(json_text));
  return manifest_from_value(doc);
}

}  // namespace remotemedia
