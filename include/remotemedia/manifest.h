// Manifest v1: the JSON description of a pipeline (docs/MANIFEST.md, docs/manifest.schema.json).
//
// parse_manifest checks structure only (rules 1-17 of docs/MANIFEST.md); Graph::compile checks the
// rest against a Registry. Every error is a Status carrying the JSON path of the fault.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia {

enum class RuntimeHint : uint8_t { kAuto, kNative, kPython };

struct NodeSpec {
  std::string id;
  std::string node_type;
  Value params;        // a map (empty when absent)
  Value capabilities;  // a map or null
  std::optional<std::string> host;
  RuntimeHint runtime_hint = RuntimeHint::kAuto;
};

struct Connection {
  std::string from;
  std::string to;
  std::string from_port = {};  // an output port of `from`; empty: its only port (docs/MANIFEST.md)
};

struct Manifest {
  std::string version;
  std::string name;  // metadata.name, or empty
  Value metadata;    // a map or null
  std::vector<NodeSpec> nodes;
  // nullopt when the key is absent: the nodes then form a chain in the order listed.
  std::optional<std::vector<Connection>> connections;
};

Result<Manifest> parse_manifest(std::string_view json_text);
Result<Manifest> manifest_from_value(const Value& document);

}  // namespace remotemedia
