#include "remotemedia/graph.h"

#include <algorithm>
#include <cstdint>
#include <queue>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace remotemedia {

namespace {

Status graph_error(std::string message, std::string path) {
  return std::move(Status(StatusCode::kGraphError, std::move(message)).with_path(std::move(path)));
}

std::string node_path(size_t i, const char* field) {
  return "$.nodes[" + std::to_string(i) + "]." + field;
}

// Kahn's algorithm; ties go to the lower node index so the order is deterministic and the same as
// the Python executor's.
std::vector<size_t> topological_sort(const std::vector<GraphNode>& nodes) {
  std::vector<size_t> in_degree(nodes.size());
  for (const GraphNode& n : nodes) {
    for (size_t s : n.successors) ++in_degree[s];
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (in_degree[i] == 0) ready.push(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t s : nodes[i].successors) {
      if (--in_degree[s] == 0) ready.push(s);
    }
  }
  return order;
}

// The ids on the first cycle met by a depth-first search that starts from each node in node order
// and follows edges in connection order (docs/MANIFEST.md, rule 23), as 'a' -> 'b' -> 'a'.
// Iterative, so a long cycle cannot exhaust the stack.
std::string describe_cycle(const std::vector<GraphNode>& nodes) {
  enum : uint8_t { kWhite, kGrey, kBlack };
  std::vector<uint8_t> colour(nodes.size(), kWhite);
  std::vector<size_t> position(nodes.size(), 0);  // where a grey node sits on `path`
  std::vector<size_t> path;
  std::vector<std::pair<size_t, size_t>> stack;  // node, index of its next successor
  for (size_t start = 0; start < nodes.size(); ++start) {
    if (colour[start] != kWhite) continue;
    colour[start] = kGrey;
    path.assign(1, start);
    stack.assign(1, {start, 0});
    while (!stack.empty()) {
      const size_t node = stack.back().first;
      const std::vector<size_t>& successors = nodes[node].successors;
      if (stack.back().second == successors.size()) {
        colour[node] = kBlack;
        stack.pop_back();
        path.pop_back();
        continue;
      }
      const size_t next = successors[stack.back().second++];
      if (colour[next] == kGrey) {
        std::string text;
        for (size_t k = position[next]; k < path.size(); ++k) text += quote(nodes[path[k]].id) + " -> ";
        return text + quote(nodes[next].id);
      }
      if (colour[next] == kWhite) {
        colour[next] = kGrey;
        position[next] = path.size();
        path.push_back(next);
        stack.emplace_back(next, 0);
      }
    }
  }
  return "(unknown)";
}

// The index of output port `name` of `node`; an empty name means the node's only port.
Result<size_t> resolve_port(const GraphNode& node, const std::string& name, const std::string& path) {
  const auto& ports = node.output_ports;
  auto list = [&] {
    std::string text;
    for (const std::string& p : ports) text += (text.empty() ? "" : ", ") + p;
    return text;
  };
  if (name.empty()) {
    if (ports.size() == 1) return size_t{0};
    return graph_error("node " + quote(node.id) + " (" + node.type_name + ") has several output ports (" + list() +
                           "): say which with \"from_port\"",
                       path);
  }
  for (size_t p = 0; p < ports.size(); ++p) {
    if (ports[p] == name) return p;
  }
  return graph_error("node " + quote(node.id) + " (" + node.type_name + ") has no output port " + quote(name) +
                         " (its ports: " + list() + ")",
                     path + ".from_port");
}

}  // namespace

Result<Graph> Graph::compile(const Manifest& manifest, const Registry& registry,
                             const ExternalNodes* external) {
  Graph g;
  g.name_ = manifest.name;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < manifest.nodes.size(); ++i) {
    const NodeSpec& spec = manifest.nodes[i];
    if (auto first = index.find(spec.id); first != index.end()) {
      return graph_error("duplicate node id " + quote(spec.id) + " (already used by $.nodes[" +
                             std::to_string(first->second) + "])",
                         node_path(i, "id"));
    }
    index[spec.id] = i;
    if (external != nullptr) {
      if (auto it = external->find(spec.id); it != external->end()) {
        std::vector<std::string> ports = it->second.output_ports;
        if (ports.empty()) ports.push_back(kDefaultPort);
        g.nodes_.push_back(GraphNode{spec.id, it->second.type_name, it->second.factory, true, spec.params,
                                     std::move(ports), {}, {}, 0});
        continue;
      }
    }
    const NodeTypeInfo* type = registry.find(spec.node_type);
    if (type == nullptr) {
      return std::move(Status(StatusCode::kUnknownNodeType, "unknown node type " + quote(spec.node_type))
                           .with_path(node_path(i, "node_type")));
    }
    RM_ASSIGN_OR_RETURN(Value params, Registry::validate_params(*type, spec.params, node_path(i, "params")));
    std::vector<std::string> ports{kDefaultPort};
    if (type->output_ports) {
      Result<std::vector<std::string>> named = type->output_ports(params);
      if (!named.ok()) {
        Status s = named.take_status();
        if (s.path().empty()) s.with_path(node_path(i, "params"));
        return s;
      }
      ports = std::move(named).value();
    }
    g.nodes_.push_back(GraphNode{spec.id, type->name, type->factory, false, std::move(params), std::move(ports),
                                 {}, {}, 0});
  }
  for (GraphNode& n : g.nodes_) n.port_successors.resize(n.output_ports.size());

  if (manifest.connections) {
    std::map<std::tuple<size_t, size_t, size_t>, size_t> seen;  // (from, port, to) -> first connection
    for (size_t j = 0; j < manifest.connections->size(); ++j) {
      const Connection& c = (*manifest.connections)[j];
      const std::string path = "$.connections[" + std::to_string(j) + "]";
      auto from = index.find(c.from);
      if (from == index.end()) {
        return graph_error("connection source " + quote(c.from) + " names no node", path + ".from");
      }
      auto to = index.find(c.to);
      if (to == index.end()) {
        return graph_error("connection target " + quote(c.to) + " names no node", path + ".to");
      }
      GraphNode& source = g.nodes_[from->second];
      RM_ASSIGN_OR_RETURN(size_t port, resolve_port(source, c.from_port, path));
      if (auto [first, fresh] = seen.try_emplace({from->second, port, to->second}, j); !fresh) {
        return graph_error("duplicate connection " + quote(c.from) + " -> " + quote(c.to) +
                               " (same as $.connections[" + std::to_string(first->second) + "])",
                           path);
      }
      source.port_successors[port].push_back(to->second);
      source.successors.push_back(to->second);
      ++g.nodes_[to->second].in_degree;
    }
  } else {
    for (size_t i = 0; i + 1 < g.nodes_.size(); ++i) {
      RM_ASSIGN_OR_RETURN(size_t port, resolve_port(g.nodes_[i], "", "$.nodes[" + std::to_string(i) + "]"));
      g.nodes_[i].port_successors[port].push_back(i + 1);
      g.nodes_[i].successors.push_back(i + 1);
      ++g.nodes_[i + 1].in_degree;
    }
  }

  g.order_ = topological_sort(g.nodes_);
  if (g.order_.size() != g.nodes_.size()) {
    return graph_error("connections form a cycle: " + describe_cycle(g.nodes_), "$.connections");
  }
  for (size_t i = 0; i < g.nodes_.size(); ++i) {
    if (g.nodes_[i].in_degree == 0) g.sources_.push_back(i);
  }
  // A chain: one source, and along the topological order each node feeds exactly the next one,
  // through its only port.
  g.is_chain_ = g.nodes_.empty() || g.sources_.size() == 1;
  for (const GraphNode& n : g.nodes_) g.is_chain_ = g.is_chain_ && n.output_ports.size() == 1;
  for (size_t k = 0; g.is_chain_ && k < g.order_.size(); ++k) {
    const GraphNode& n = g.nodes_[g.order_[k]];
    const bool last = k + 1 == g.order_.size();
    g.is_chain_ = last ? n.successors.empty()
                       : n.successors.size() == 1 && n.successors[0] == g.order_[k + 1] &&
                             g.nodes_[g.order_[k + 1]].in_degree == 1;
  }
  return g;
}

Result<std::vector<std::unique_ptr<Node>>> Graph::instantiate() const {
  std::vector<std::unique_ptr<Node>> out;
  out.reserve(nodes_.size());
  for (const GraphNode& n : nodes_) {
    auto made = n.factory(n.params);
    if (!made.ok()) {
      Status s = made.take_status();
      return std::move(s.with_node(n.id, n.type_name, std::nullopt));
    }
    out.push_back(std::move(made).value());
  }
  return out;
}

}  // namespace remotemedia
