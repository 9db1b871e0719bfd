// Graph: a manifest checked against a registry and compiled for execution.
//
// Compilation resolves aliases, checks parameters, rejects duplicate ids, dangling or repeated
// connections and cycles, and computes a topological order. A Graph is immutable and may be shared
// by any number of concurrent runs; each run makes its own node instances from it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "remotemedia/manifest.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"
#include "remotemedia/status.h"

namespace remotemedia {

// A node the embedding application implements itself for one node id (the Python binding uses this
// for nodes that run as Python code). The registry is not consulted for it: its parameters were
// checked by whoever made it.
struct ExternalNode {
  std::string type_name;
  NodeFactory factory;
  std::vector<std::string> output_ports = {};  // empty: one port, "out"
};
using ExternalNodes = std::unordered_map<std::string, ExternalNode>;

struct GraphNode {
  std::string id;
  std::string type_name;  // canonical type name (aliases resolved)
  NodeFactory factory;
  bool external = false;  // made by an ExternalNode rather than a registry type
  Value params;           // checked, defaults filled in
  std::vector<std::string> output_ports;            // names; emit_to(i) is port i
  std::vector<std::vector<size_t>> port_successors;  // per port, in connection order
  std::vector<size_t> successors;                    // every edge, in connection order
  size_t in_degree = 0;
};

class Graph {
 public:
  // `external` maps node ids to nodes supplied by the caller; other nodes come from `registry`.
  static Result<Graph> compile(const Manifest& manifest, const Registry& registry,
                               const ExternalNodes* external = nullptr);

  const std::vector<GraphNode>& nodes() const { return nodes_; }
  const std::vector<size_t>& topological_order() const { return order_; }
  const std::vector<size_t>& sources() const { return sources_; }
  // True when the nodes form one linear path (or there are none): the batch fast path applies.
  bool is_chain() const { return is_chain_; }
  const std::string& name() const { return name_; }

  // Fresh node instances for one run or session, in node order.
  Result<std::vector<std::unique_ptr<Node>>> instantiate() const;

 private:
  std::string name_;
  std::vector<GraphNode> nodes_;
  std::vector<size_t> order_;
  std::vector<size_t> sources_;
  bool is_chain_ = true;
};

}  // namespace remotemedia
