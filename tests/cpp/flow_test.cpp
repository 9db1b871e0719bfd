// The flow nodes (src/nodes/flow.cpp) through the executor: Buffer's grouping and remainder,
// Filter and Map on boxed items and on columns (the same results either way), Router's ports.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/json.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

namespace remotemedia {
namespace {

Result<Graph> compile(const std::string& manifest_json) {
  RM_ASSIGN_OR_RETURN(Manifest m, parse_manifest(manifest_json));
  return Graph::compile(m, Registry::global());
}

std::vector<Value> ints(std::initializer_list<int64_t> v) {
  std::vector<Value> out;
  for (int64_t x : v) out.push_back(Value::integer(x));
  return out;
}

std::string run_json(const Graph& g, std::vector<Value> items) {
  Result<std::vector<Value>> out = run(g, std::move(items));
  if (!out.ok()) return "error: " + out.status().to_string();
  return to_json(Value::list(std::move(out).value())).value();
}

TEST(Buffer, GroupsItemsAndFlushesTheRemainder) {
  Result<Graph> g = compile(R"({"version": "v1", "nodes": [{"id": "b", "node_type": "Buffer", "params": {"buffer_size": 3}}]})");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(run_json(*g, ints({1, 2, 3, 4, 5, 6, 7})), "[[1, 2, 3], [4, 5, 6], [7]]");
  EXPECT_EQ(run_json(*g, ints({1, 2, 3})), "[[1, 2, 3]]");
  EXPECT_EQ(run_json(*g, {}), "[]");
}

TEST(Buffer, SizeBelowOneIsAParameterError) {
  Result<Graph> g = compile(R"({"version": "v1", "nodes": [{"id": "b", "node_type": "Buffer", "params": {"buffer_size": 0}}]})");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter);
  EXPECT_EQ(g.status().path(), "$.nodes[0].params.buffer_size");
}

TEST(FilterMap, BoxedAndColumnRunsAgree) {
  Result<Graph> g = compile(R"({"version": "v1", "nodes": [
      {"id": "f", "node_type": "Filter", "params": {"condition": "item % 3 != 0"}},
      {"id": "m", "node_type": "Map", "params": {"expression": "item * 2 + 1"}}]})");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  std::vector<Value> boxed;
  Ref<NDArray> column = NDArray::allocate(DType::kInt64, {10});
  for (int64_t i = 0; i < 10; ++i) {
    boxed.push_back(Value::integer(i));
    column->mutable_data_as<int64_t>()[i] = i;
  }
  EXPECT_EQ(run_json(*g, boxed), "[3, 5, 9, 11, 15, 17]");
  Batch in;
  in.column = column;
  Result<Batch> out = run_batch(*g, std::move(in));
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  out->box();
  std::vector<int64_t> got;
  for (const Value& v : out->items) got.push_back(v.as_array().data_as<int64_t>()[0]);
  EXPECT_EQ(got, (std::vector<int64_t>{3, 5, 9, 11, 15, 17}));
}

TEST(FilterMap, FilterNeverEmitsNone) {
  Result<Graph> g = compile(R"j({"version": "v1", "nodes": [{"id": "f", "node_type": "Filter", "params": {"condition": "not is_str(item)"}}]})j");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(run_json(*g, {Value(), Value::integer(1), Value::string("x"), Value()}), "[1]");
}

TEST(FilterMap, ErrorsNameTheNodeAndItemAndKeepEarlierOutputs) {
  Result<Graph> g = compile(R"({"version": "v1", "nodes": [
      {"id": "m", "node_type": "Map", "params": {"expression": "10 // item"}}]})");
  ASSERT_TRUE(g.ok());
  Result<std::vector<Value>> out = run(*g, ints({5, 2, 0, 1}));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kZeroDivision);
  EXPECT_EQ(out.status().node_id(), "m");
  EXPECT_EQ(out.status().item_index(), 2);
}

TEST(FilterMap, SyntaxErrorsAreParameterErrorsWithAColumn) {
  Result<Graph> g = compile(R"({"version": "v1", "nodes": [
      {"id": "f", "node_type": "Filter", "params": {"condition": "item >> 2"}}]})");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter);
  EXPECT_EQ(g.status().path(), "$.nodes[0].params.condition");
  EXPECT_NE(g.status().message().find("column"), std::string::npos);
}

TEST(Router, RoutesByFirstMatchToPortsAndUnconnectedPortsAreSinks) {
  Result<Graph> g = compile(R"({"version": "v1", "nodes": [
      {"id": "r", "node_type": "Router", "params": {"routes": [
          {"when": "item > 10", "to": "big"}, {"when": "item > 0", "to": "small"}], "default": "rest"}},
      {"id": "x100", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 100}},
      {"id": "neg", "node_type": "Calculator", "params": {"operation": "multiply", "operand": -1}}],
    "connections": [{"from": "r", "from_port": "small", "to": "x100"}, {"from": "r", "from_port": "rest", "to": "neg"}]})");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_FALSE(g->is_chain());
  EXPECT_EQ(g->nodes()[0].output_ports, (std::vector<std::string>{"big", "small", "rest"}));
  // 20 leaves by "big", which has no connection: a sink.
  EXPECT_EQ(run_json(*g, ints({5, 20, -3, 0, 11})), "[500, 20, 3, 0, 11]");
}

TEST(Router, ConnectionsMustNameAPortWhenThereAreSeveral) {
  const char* nodes = R"("nodes": [
      {"id": "r", "node_type": "Router", "params": {"routes": [{"when": "item", "to": "a"}], "default": "b"}},
      {"id": "p", "node_type": "PassThrough"}])";
  Result<Graph> g = compile(std::string(R"({"version": "v1", )") + nodes + R"(, "connections": [{"from": "r", "to": "p"}]})");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kGraphError);
  EXPECT_EQ(g.status().path(), "$.connections[0]");
  g = compile(std::string(R"({"version": "v1", )") + nodes + "}");  // an implicit chain
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().path(), "$.nodes[0]");
}

TEST(Router, NoDefaultDropsUnmatchedItems) {
  Result<Graph> g = compile(R"({"version": "v1", "nodes": [
      {"id": "r", "node_type": "Router", "params": {"routes": [{"when": "item % 2 == 0", "to": "even"}]}}]})");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->is_chain());  // a single port: an ordinary one-output node
  EXPECT_EQ(run_json(*g, ints({1, 2, 3, 4})), "[2, 4]");
}

}  // namespace
}  // namespace remotemedia
