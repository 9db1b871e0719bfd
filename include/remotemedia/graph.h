// Graph: a manifest checked against a registry and compiled for execution.
//
// Compilation resolves aliases, checks parameters, rejects duplicate ids, dangling or repeated
// connections and cycles, and computes a topological order. A Graph is immutable and may be shared
// by any number of concurrent runs; each run makes its own node instances from it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "remotemedia/manifest.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"
#include "remotemedia/status.h"

namespace remotemedia {

struct GraphNode {
  std::string id;
  const NodeTypeInfo* type = nullptr;  // canonical type (aliases resolved)
  Value params;                        // checked, defaults filled in
  std::vector<size_t> successors;      // in connection order
  size_t in_degree = 0;
};

class Graph {
 public:
  static Result<Graph> compile(const Manifest& manifest, const Registry& registry);

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
