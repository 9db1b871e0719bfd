// Graph::compile: the semantic rules 18-23 of docs/MANIFEST.md, topological order and the chain test.
#include "remotemedia/graph.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace remotemedia {
namespace {

NodeSpec node(std::string id, std::string type = "PassThroughNode", Value params = Value::map({})) {
  NodeSpec n;
  n.id = std::move(id);
  n.node_type = std::move(type);
  n.params = std::move(params);
  return n;
}

NodeSpec add(std::string id, int64_t operand) {
  return node(std::move(id), "CalculatorNode",
              Value::map({{"operation", Value::string("add")}, {"operand", Value::integer(operand)}}));
}

// Nodes named by `ids` (PassThrough), edges "a>b".
Manifest graph(const std::vector<std::string>& ids, const std::vector<std::string>& edges) {
  Manifest m;
  m.version = "v1";
  for (const std::string& id : ids) m.nodes.push_back(node(id));
  std::vector<Connection> conns;
  for (const std::string& e : edges) {
    const size_t gt = e.find('>');
    conns.push_back(Connection{e.substr(0, gt), e.substr(gt + 1)});
  }
  m.connections = std::move(conns);
  return m;
}

Manifest chain(std::vector<NodeSpec> nodes) {
  Manifest m;
  m.version = "v1";
  m.nodes = std::move(nodes);
  return m;
}

Result<Graph> compile(const Manifest& m) { return Graph::compile(m, Registry::global()); }

::testing::AssertionResult fails(const Manifest& m, StatusCode code, const std::string& path,
                                 const std::string& mention = "") {
  Result<Graph> g = compile(m);
  if (g.ok()) return ::testing::AssertionFailure() << "compiled";
  const Status& s = g.status();
  if (s.code() != code) return ::testing::AssertionFailure() << "code " << status_code_name(s.code()) << ": " << s.to_string();
  if (s.path() != path) return ::testing::AssertionFailure() << "path " << s.path() << ", expected " << path;
  if (!mention.empty() && s.message().find(mention) == std::string::npos) {
    return ::testing::AssertionFailure() << "message '" << s.message() << "' lacks " << mention;
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> ids_in(const Graph& g, const std::vector<size_t>& indices) {
  std::vector<std::string> out;
  for (size_t i : indices) out.push_back(g.nodes()[i].id);
  return out;
}

TEST(GraphCompile, DuplicateIdNamesTheSecondOccurrence) {
  EXPECT_TRUE(fails(chain({node("a"), node("b"), node("a")}), StatusCode::kGraphError, "$.nodes[2].id", "'a'"));
  EXPECT_TRUE(fails(chain({node("a"), node("a"), node("a")}), StatusCode::kGraphError, "$.nodes[1].id"));
}

TEST(GraphCompile, UnknownNodeType) {
  EXPECT_TRUE(fails(chain({node("a"), node("b", "NoSuchNode")}), StatusCode::kUnknownNodeType,
                    "$.nodes[1].node_type", "NoSuchNode"));
  EXPECT_TRUE(fails(chain({node("a", "passthroughnode")}), StatusCode::kUnknownNodeType, "$.nodes[0].node_type"));
}

TEST(GraphCompile, SemanticChecksRunNodeByNode) {
  // An unknown type in node 1 wins over node 2 duplicating node 0's id.
  EXPECT_TRUE(fails(chain({node("a"), node("b", "Nope"), node("a")}), StatusCode::kUnknownNodeType,
                    "$.nodes[1].node_type"));
  // Within one node: the duplicate id (18) before its unknown type (19) ...
  EXPECT_TRUE(fails(chain({node("a"), node("a", "Nope")}), StatusCode::kGraphError, "$.nodes[1].id"));
  // ... and the type (19) before its parameters (20).
  EXPECT_TRUE(fails(chain({node("a", "Nope", Value::map({{"x", Value::integer(1)}}))}),
                    StatusCode::kUnknownNodeType, "$.nodes[0].node_type"));
  // A bad parameter in node 0 wins over an unknown type in node 1.
  EXPECT_TRUE(fails(chain({node("c", "Calculator"), node("d", "Nope")}), StatusCode::kInvalidParameter,
                    "$.nodes[0].params"));
  EXPECT_TRUE(fails(chain({node("p"), node("c", "CalculatorNode",
                                           Value::map({{"operation", Value::string("add")},
                                                       {"operand", Value::string("1")}}))}),
                    StatusCode::kInvalidParameter, "$.nodes[1].params.operand"));
}

TEST(GraphCompile, DanglingConnections) {
  EXPECT_TRUE(fails(graph({"a", "b"}, {"a>b", "x>b"}), StatusCode::kGraphError, "$.connections[1].from", "'x'"));
  EXPECT_TRUE(fails(graph({"a", "b"}, {"a>y"}), StatusCode::kGraphError, "$.connections[0].to", "'y'"));
  EXPECT_TRUE(fails(graph({"a", "b"}, {"x>y"}), StatusCode::kGraphError, "$.connections[0].from"));
  EXPECT_TRUE(fails(graph({"a"}, {"A>a"}), StatusCode::kGraphError, "$.connections[0].from"));  // exact ids
  EXPECT_TRUE(fails(graph({}, {"a>b"}), StatusCode::kGraphError, "$.connections[0].from"));
  // Parameter errors (nodes) come before connection errors.
  Manifest m = graph({"a"}, {"a>zz"});
  m.nodes[0] = node("a", "CalculatorNode");
  EXPECT_TRUE(fails(m, StatusCode::kInvalidParameter, "$.nodes[0].params"));
}

TEST(GraphCompile, DuplicateConnectionNamesTheLaterOne) {
  EXPECT_TRUE(fails(graph({"a", "b", "c"}, {"a>b", "b>c", "a>b"}), StatusCode::kGraphError, "$.connections[2]"));
  // connections are checked one at a time: the duplicate at [1] wins over a dangling one at [2]
  EXPECT_TRUE(fails(graph({"a", "b"}, {"a>b", "a>b", "a>q"}), StatusCode::kGraphError, "$.connections[1]"));
  // a -> b and b -> a are not duplicates (they are a cycle)
  EXPECT_TRUE(fails(graph({"a", "b"}, {"a>b", "b>a"}), StatusCode::kGraphError, "$.connections", "cycle"));
}

TEST(GraphCompile, IdsContainingNulAreNotConfusedWithOtherPairs) {
  // "a\0b" -> "c" and "a" -> "b\0c" are different edges.
  const std::string anb("a\0b", 3), bnc("b\0c", 3);
  Manifest m = graph({anb, "c", "a", bnc}, {});
  m.connections = std::vector<Connection>{{anb, "c"}, {"a", bnc}};
  Result<Graph> compiled = compile(m);
  EXPECT_TRUE(compiled.ok()) << compiled.status().to_string();
}

TEST(GraphCompile, SelfLoopIsACycle) {
  EXPECT_TRUE(fails(graph({"a", "b"}, {"a>b", "b>b"}), StatusCode::kGraphError, "$.connections", "'b' -> 'b'"));
}

TEST(GraphCompile, CycleMessageListsTheIdsOnTheCycle) {
  Result<Graph> g = compile(graph({"alpha", "beta", "gamma", "delta"},
                                  {"alpha>beta", "beta>gamma", "gamma>alpha", "gamma>delta"}));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kGraphError);
  EXPECT_EQ(g.status().path(), "$.connections");
  EXPECT_NE(g.status().message().find("'alpha' -> 'beta' -> 'gamma' -> 'alpha'"), std::string::npos)
      << g.status().message();
  EXPECT_EQ(g.status().message().find("delta"), std::string::npos) << g.status().message();
}

TEST(GraphCompile, CycleBehindASourceListsOnlyTheCycle) {
  Result<Graph> g = compile(graph({"src", "left", "right", "sink"},
                                  {"src>left", "left>right", "right>left", "right>sink"}));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'left' -> 'right' -> 'left'"), std::string::npos) << g.status().message();
  EXPECT_EQ(g.status().message().find("src"), std::string::npos);
  EXPECT_EQ(g.status().message().find("sink"), std::string::npos);
}

TEST(GraphCompile, CycleIsTheFirstOneADepthFirstSearchMeets) {
  // u's first successor z is a dead end downstream of the cycle; the search backs out of it and
  // finds u -> w -> u.
  Result<Graph> g = compile(graph({"u", "w", "z"}, {"u>z", "u>w", "w>u"}));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'u' -> 'w' -> 'u'"), std::string::npos) << g.status().message();
  EXPECT_EQ(g.status().message().find("'z'"), std::string::npos) << g.status().message();
  // Two cycles: the search starts at node 0 (s, which is not on a cycle) and meets x <-> y first,
  // although p <-> q has the lower node index.
  g = compile(graph({"s", "p", "q", "x", "y"}, {"s>x", "x>y", "y>x", "p>q", "q>p"}));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'x' -> 'y' -> 'x'"), std::string::npos) << g.status().message();
  // Edges are followed in connection order: from a, the edge to c is listed first.
  g = compile(graph({"a", "b", "c"}, {"a>c", "a>b", "b>a", "c>a"}));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'a' -> 'c' -> 'a'"), std::string::npos) << g.status().message();
}

TEST(GraphCompile, LongCycleAndLongChain) {
  std::vector<std::string> ids, edges;
  const int n = 10000;
  for (int i = 0; i < n; ++i) ids.push_back(std::string(1, 'n').append(std::to_string(i)));
  for (int i = 0; i + 1 < n; ++i) edges.push_back(ids[i] + ">" + ids[i + 1]);
  Result<Graph> chain_graph = compile(graph(ids, edges));
  ASSERT_TRUE(chain_graph.ok());
  EXPECT_TRUE(chain_graph->is_chain());
  EXPECT_EQ(chain_graph->topological_order().back(), static_cast<size_t>(n - 1));
  edges.push_back(ids[n - 1] + ">" + ids[0]);
  Result<Graph> cycle = compile(graph(ids, edges));
  ASSERT_FALSE(cycle.ok());
  const std::string& msg = cycle.status().message();
  EXPECT_NE(msg.find("'n0' -> 'n1' -> 'n2'"), std::string::npos);
  EXPECT_NE(msg.find("'n9999' -> 'n0'"), std::string::npos);
}

TEST(GraphCompile, DanglingConnectionBeatsCycle) {
  EXPECT_TRUE(fails(graph({"a", "b"}, {"a>b", "b>a", "b>nowhere"}), StatusCode::kGraphError, "$.connections[2].to"));
}

TEST(GraphCompile, TopologicalOrderBreaksTiesByNodeIndex) {
  Result<Graph> g = compile(graph({"n0", "n1", "n2", "n3"}, {"n2>n0", "n3>n1"}));
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  // Ready at first: n2, n3. Take n2 (lower index), which frees n0 (index 0 < 3): n0 next.
  EXPECT_EQ(ids_in(*g, g->topological_order()), (std::vector<std::string>{"n2", "n0", "n3", "n1"}));
  EXPECT_EQ(ids_in(*g, g->sources()), (std::vector<std::string>{"n2", "n3"}));

  g = compile(graph({"d", "c", "b", "a"}, {"a>b", "b>c", "c>d"}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(ids_in(*g, g->topological_order()), (std::vector<std::string>{"a", "b", "c", "d"}));

  g = compile(graph({"x", "y", "z"}, {}));  // no edges: node order
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(ids_in(*g, g->topological_order()), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(g->sources().size(), 3u);
}

TEST(GraphCompile, SuccessorsInConnectionOrder) {
  Result<Graph> g = compile(graph({"s", "a", "b", "t"}, {"s>b", "a>t", "s>a", "b>t"}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(ids_in(*g, g->nodes()[0].successors), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(g->nodes()[3].in_degree, 2u);
  EXPECT_EQ(g->nodes()[0].in_degree, 0u);
}

TEST(GraphCompile, ResolvesAliasesAndFillsParams) {
  Result<Graph> g = compile(chain({node("p", "PassThrough"), add("c", 3)}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->nodes()[0].type_name, "PassThroughNode");
  EXPECT_EQ(*g->nodes()[1].params.find("operand"), Value::integer(3));
  auto nodes = g->instantiate();
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes->size(), 2u);
}

TEST(GraphCompile, ChainWithoutConnectionsKey) {
  Manifest m = chain({node("a"), node("b"), node("c")});
  ASSERT_FALSE(m.connections.has_value());
  Result<Graph> g = compile(m);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->is_chain());
  EXPECT_EQ(ids_in(*g, g->topological_order()), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ids_in(*g, g->nodes()[0].successors), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ids_in(*g, g->nodes()[1].successors), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(g->nodes()[2].successors.empty());
  EXPECT_EQ(ids_in(*g, g->sources()), (std::vector<std::string>{"a"}));
}

TEST(GraphCompile, IsChain) {
  auto is_chain = [](const Manifest& m) {
    Result<Graph> g = compile(m);
    EXPECT_TRUE(g.ok()) << g.status().to_string();
    return g.ok() && g->is_chain();
  };
  EXPECT_TRUE(is_chain(chain({})));
  EXPECT_TRUE(is_chain(chain({node("a")})));
  EXPECT_TRUE(is_chain(graph({}, {})));
  EXPECT_TRUE(is_chain(graph({"a"}, {})));
  EXPECT_TRUE(is_chain(graph({"a", "b", "c"}, {"a>b", "b>c"})));
  EXPECT_TRUE(is_chain(graph({"c", "b", "a"}, {"a>b", "b>c"})));  // a path, listed backwards
  EXPECT_FALSE(is_chain(graph({"a", "b"}, {})));                   // two isolated nodes
  EXPECT_FALSE(is_chain(graph({"a", "b", "c"}, {"a>b"})));         // a path plus an isolated node
  EXPECT_FALSE(is_chain(graph({"a", "b", "c"}, {"a>b", "a>c"})));  // fan-out
  EXPECT_FALSE(is_chain(graph({"a", "b", "c"}, {"a>c", "b>c"})));  // fan-in
  EXPECT_FALSE(is_chain(graph({"a", "b", "c"}, {"a>b", "b>c", "a>c"})));
}

std::string message_of(const Manifest& m) {
  Result<Graph> g = compile(m);
  return g.ok() ? "compiled" : g.status().message();
}

// The words are the Python parser's (tests/python/system/test_manifest_wording.py holds both to them).
TEST(Graph, MessagesNameTheFirstUseAndQuoteIdsByTheOneRule) {
  EXPECT_EQ(message_of(graph({"x", "a'b", "a'b"}, {})), R"(duplicate node id 'a\'b' (already used by $.nodes[1]))");
  EXPECT_EQ(message_of(graph({"a", "b"}, {"a>b", "b>a", "a>b"})),
            "duplicate connection 'a' -> 'b' (same as $.connections[0])");
  EXPECT_EQ(message_of(graph({"a"}, {"g\\h>a"})), R"(connection source 'g\\h' names no node)");
  EXPECT_EQ(message_of(graph({"a"}, {"a>g\nh"})), R"(connection target 'g\nh' names no node)");
  EXPECT_EQ(message_of(graph({"a\tb", "c"}, {"a\tb>c", "c>a\tb"})),
            R"(connections form a cycle: 'a\tb' -> 'c' -> 'a\tb')");
  EXPECT_EQ(message_of(chain({node("a", "No'Such")})), R"(unknown node type 'No\'Such')");
}

}  // namespace
}  // namespace remotemedia
