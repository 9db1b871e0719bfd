// The batch executor (include/remotemedia/executor.h) against docs/SEMANTICS.md: outputs and errors
// are those of item-at-a-time, depth-first execution, whether the graph runs stage by stage (a chain)
// or item by item (any other graph). Small test-only nodes live in a local Registry.
#include "remotemedia/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "remotemedia/json.h"

namespace remotemedia {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// What the test nodes did, in order: "process p 3", "flush p", "close p", ...
std::vector<std::string>& events() {
  static std::vector<std::string> log;
  return log;
}

std::string show(const Value& v) {
  Result<std::string> s = to_json(v);
  return s.ok() ? *s : v.type_name();
}

const std::string& tag_of(const Value& params) { return params.find("tag")->as_string(); }

// Passes items through and records every call. No column path, so a column reaching it is boxed.
class Probe final : public Node {
 public:
  explicit Probe(const Value& params)
      : tag_(tag_of(params)),
        fail_open_(params.find("fail_open")->as_bool()),
        fail_close_(params.find("fail_close")->as_bool()) {}
  Status open() override {
    if (fail_open_) return ValueError("open failed");
    events().push_back("open " + tag_);
    return Status::OK();
  }
  Status process(Value item, Emitter& out) override {
    events().push_back("process " + tag_ + " " + show(item));
    out.emit(std::move(item));
    return Status::OK();
  }
  Status flush(Emitter&) override {
    events().push_back("flush " + tag_);
    return Status::OK();
  }
  Status close() override {
    events().push_back("close " + tag_);
    return fail_close_ ? Status(StatusCode::kValueError, "close failed " + tag_) : Status::OK();
  }

 private:
  std::string tag_;
  bool fail_open_;
  bool fail_close_;
};

// Fails with a ValueError on items equal to `value`; passes the others through.
class FailOn final : public Node {
 public:
  explicit FailOn(const Value& params) : bad_(*params.find("value")), tag_(tag_of(params)) {}
  Status process(Value item, Emitter& out) override {
    if (item == bad_) return ValueError("refused " + show(item));
    out.emit(std::move(item));
    return Status::OK();
  }
  Status flush(Emitter&) override {
    events().push_back("flush " + tag_);
    return Status::OK();
  }

 private:
  Value bad_;
  std::string tag_;
};

// Emits the sum of each pair of int items; flush emits a held-back odd one.
class Pair final : public Node {
 public:
  explicit Pair(const Value& params) : tag_(tag_of(params)) {}
  Status process(Value item, Emitter& out) override {
    if (!item.is_int()) return TypeError("Pair takes ints");
    if (held_) {
      out.emit(Value::integer(held_->as_int() + item.as_int()));
      held_.reset();
    } else {
      held_ = item;
    }
    return Status::OK();
  }
  Status flush(Emitter& out) override {
    events().push_back("flush " + tag_);
    if (held_) out.emit(*held_);
    held_.reset();
    return Status::OK();
  }

 private:
  std::string tag_;
  std::optional<Value> held_;
};

class Twice final : public Node {
 public:
  Status process(Value item, Emitter& out) override {
    out.emit(item);
    out.emit(std::move(item));
    return Status::OK();
  }
};

// Passes items (and columns) through; its flush emits `emit`'s elements and then fails if `fail`.
class Flusher final : public Node {
 public:
  explicit Flusher(const Value& params)
      : emit_(*params.find("emit")), fail_(params.find("fail")->as_bool()), tag_(tag_of(params)) {}
  Status process(Value item, Emitter& out) override {
    out.emit(std::move(item));
    return Status::OK();
  }
  Status process_column(const Ref<NDArray>& column, Ref<NDArray>* out, size_t*) override {
    *out = column;
    return Status::OK();
  }
  Status flush(Emitter& out) override {
    events().push_back("flush " + tag_);
    for (const Value& v : emit_.as_list()) out.emit(v);
    return fail_ ? ValueError("flush failed") : Status::OK();
  }

 private:
  Value emit_;
  bool fail_;
  std::string tag_;
};

template <typename N>
NodeFactory factory() {
  return [](const Value& params) -> Result<std::unique_ptr<Node>> {
    return std::unique_ptr<Node>(std::make_unique<N>(params));
  };
}

ParamSpec tag_param() { return ParamSpec{"tag", ParamType::kString, false, Value::string(""), {}, ""}; }

void register_test_nodes(Registry& r) {
  register_builtin_nodes(r);
  auto ok = [](Status s) { ASSERT_TRUE(s.ok()) << s.to_string(); };
  ok(r.add(NodeTypeInfo{"Probe", {}, "records calls", {tag_param(), ParamSpec{"fail_open", ParamType::kBool, false, Value::boolean(false), {}, ""},
                         ParamSpec{"fail_close", ParamType::kBool, false, Value::boolean(false), {}, ""}},
                        factory<Probe>()}));
  ok(r.add(NodeTypeInfo{"FailOn", {}, "fails on one value", {ParamSpec{"value", ParamType::kAny, true, Value(), {}, ""}, tag_param()}, factory<FailOn>()}));
  ok(r.add(NodeTypeInfo{"Pair", {}, "sums pairs", {tag_param()}, factory<Pair>()}));
  ok(r.add(NodeTypeInfo{"Twice", {}, "emits each item twice", {},
                        [](const Value&) -> Result<std::unique_ptr<Node>> {
                          return std::unique_ptr<Node>(std::make_unique<Twice>());
                        }}));
  ok(r.add(NodeTypeInfo{"Flusher", {}, "flush emits, then fails if asked",
                        {ParamSpec{"emit", ParamType::kList, false, Value::list({}), {}, ""},
                         ParamSpec{"fail", ParamType::kBool, false, Value::boolean(true), {}, ""}, tag_param()},
                        factory<Flusher>()}));
}

const Registry& test_registry() {
  static Registry* r = [] {
    auto* reg = new Registry();
    register_test_nodes(*reg);
    return reg;
  }();
  return *r;
}

struct N {
  std::string id;
  std::string type;
  std::string params = "{}";
};

NodeSpec to_spec(const N& n) {
  NodeSpec s;
  s.id = n.id;
  s.node_type = n.type;
  Result<Value> p = parse_json(n.params);
  EXPECT_TRUE(p.ok()) << n.params;
  s.params = p.ok() ? *p : Value::map({});
  return s;
}

// kChain: the nodes as a chain (no connections key), run stage by stage. kPush: the same chain with
// an isolated PassThrough beside it, which makes the graph a DAG that runs item by item.
enum class Mode { kChain, kPush };

Graph compile_chain(const std::vector<N>& nodes, Mode mode) {
  Manifest m;
  m.version = "v1";
  for (const N& n : nodes) m.nodes.push_back(to_spec(n));
  if (mode == Mode::kPush) {
    std::vector<Connection> conns;
    for (size_t i = 0; i + 1 < nodes.size(); ++i) conns.push_back({nodes[i].id, nodes[i + 1].id});
    m.nodes.push_back(to_spec({"isolated", "PassThroughNode"}));
    m.connections = std::move(conns);
  }
  Result<Graph> g = Graph::compile(m, test_registry());
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->is_chain(), mode == Mode::kChain);
  return std::move(g).value();
}

Graph compile_graph(const std::vector<N>& nodes, const std::vector<Connection>& conns) {
  Manifest m;
  m.version = "v1";
  for (const N& n : nodes) m.nodes.push_back(to_spec(n));
  m.connections = conns;
  Result<Graph> g = Graph::compile(m, test_registry());
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return std::move(g).value();
}

std::vector<Value> ints(std::initializer_list<int64_t> xs) {
  std::vector<Value> out;
  for (int64_t x : xs) out.push_back(Value::integer(x));
  return out;
}

N calc(std::string id, const char* op, const char* operand) {
  return N{std::move(id), "CalculatorNode",
           std::string(R"({"operation": ")") + op + R"(", "operand": )" + operand + "}"};
}

::testing::AssertionResult failed_with(const Result<std::vector<Value>>& r, StatusCode code,
                                       const std::string& node_id, std::optional<int64_t> item_index) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded with " << r->size() << " outputs";
  const Status& s = r.status();
  if (s.code() != code || s.node_id() != node_id || s.item_index() != item_index) {
    return ::testing::AssertionFailure() << "got " << status_code_name(s.code()) << " " << s.to_string();
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
Ref<NDArray> column(const std::vector<T>& values) {
  Ref<NDArray> a = NDArray::allocate(DTypeOf<T>::value, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), a->mutable_data_as<T>());
  return a;
}

Result<Batch> run_column(const Graph& g, const Ref<NDArray>& col) {
  Batch in;
  in.column = col;
  return run_batch(g, std::move(in));
}

Result<std::vector<Value>> run_column_as_items(const Graph& g, const Ref<NDArray>& col) {
  Result<Batch> b = run_column(g, col);
  if (!b.ok()) return b.status();
  Batch out = std::move(b).value();
  out.box();
  return std::move(out.items);
}

class Executor : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { events().clear(); }
  Mode mode() const { return GetParam(); }
};

class ExecutorChain : public ::testing::Test {
 protected:
  void SetUp() override { events().clear(); }
};

// ---------------------------------------------------------------------------------------------

TEST_F(ExecutorChain, ChainOutputs) {
  Graph g = compile_chain({calc("plus", "add", "5"), calc("times", "multiply", "2")}, Mode::kChain);
  Result<std::vector<Value>> r = run(g, {Value::integer(1), Value::real(2.5), Value::boolean(true)});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, (std::vector<Value>{Value::integer(12), Value::real(15.0), Value::integer(12)}));
  EXPECT_TRUE((*r)[0].is_int());
  EXPECT_TRUE((*r)[1].is_float());

  g = compile_chain({calc("d", "divide", "4"), calc("m", "modulo", "0.5")}, Mode::kChain);
  r = run(g, ints({1, -3, 10}));
  ASSERT_TRUE(r.ok());
  // 1/4 = 0.25 % 0.5 = 0.25; -3/4 = -0.75 % 0.5 = 0.25; 10/4 = 2.5 % 0.5 = 0.0
  EXPECT_EQ(*r, (std::vector<Value>{Value::real(0.25), Value::real(0.25), Value::real(0.0)}));
}

TEST_F(ExecutorChain, EmptyPipelineIsTheIdentity) {
  const std::vector<Value> items = {Value::integer(1), Value::string("x"), Value::real(2.5), Value::null()};
  for (bool with_connections : {false, true}) {
    Manifest m;
    m.version = "v1";
    if (with_connections) m.connections = std::vector<Connection>{};
    Result<Graph> g = Graph::compile(m, test_registry());
    ASSERT_TRUE(g.ok());
    Result<std::vector<Value>> r = run(*g, items);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, items);
    auto col = column<int64_t>({1, 2, 3});
    Result<Batch> b = run_column(*g, col);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->column.get(), col.get());
  }
}

TEST_F(ExecutorChain, DagOutputsAreDepthFirst) {
  const std::vector<N> nodes = {{"src", "PassThroughNode"}, calc("a", "add", "10"), calc("b", "add", "100"),
                                {"sink", "PassThroughNode"}};
  Graph g = compile_graph(nodes, {{"src", "a"}, {"src", "b"}, {"a", "sink"}, {"b", "sink"}});
  ASSERT_FALSE(g.is_chain());
  // For each item: src, then a and its successors, then b and its successors.
  EXPECT_EQ(run(g, ints({1, 2})).value(), ints({11, 101, 12, 102}));
  // Successors follow connection order, not node order.
  g = compile_graph(nodes, {{"src", "b"}, {"src", "a"}, {"a", "sink"}, {"b", "sink"}});
  EXPECT_EQ(run(g, ints({1, 2})).value(), ints({101, 11, 102, 12}));
  // Sources in node order, each receiving every item.
  g = compile_graph({calc("x", "add", "1"), calc("y", "add", "2")}, {});
  EXPECT_EQ(run(g, ints({10, 20})).value(), ints({11, 12, 21, 22}));
  // A node's outputs go downstream at once, before the next branch sees the item.
  g = compile_graph({{"src", "PassThroughNode"}, {"t", "Twice"}, calc("b", "add", "100")}, {{"src", "t"}, {"src", "b"}});
  EXPECT_EQ(run(g, ints({1, 2})).value(), ints({1, 1, 101, 2, 2, 102}));
}

TEST_F(ExecutorChain, PassThroughDropsNone) {
  // None is never a node's output (docs/SEMANTICS.md); an empty pipeline still returns it.
  const std::vector<Value> items = {Value::integer(1), Value::null(), Value::integer(2)};
  EXPECT_EQ(run(compile_chain({{"p", "PassThroughNode"}}, Mode::kChain), items).value(), ints({1, 2}));
  EXPECT_EQ(run(compile_chain({{"p", "PassThroughNode"}}, Mode::kPush), items).value(),
            (std::vector<Value>{Value::integer(1), Value::integer(1), Value::integer(2), Value::integer(2)}));
  EXPECT_EQ(run(compile_graph({{"s", "PassThroughNode"}, {"p", "Probe", R"({"tag": "p"})"}}, {{"s", "p"}}), items).value(),
            ints({1, 2}));
  EXPECT_EQ(std::count(events().begin(), events().end(), "process p null"), 0);
}

TEST_F(ExecutorChain, DagFlushEmissionsAppearAfterTheItems) {
  // pair holds 1, emits 1+2, holds 3; at end of input its flush emits 3.
  Graph g = compile_graph({{"src", "PassThroughNode"}, {"pair", "Pair"}, calc("plus", "add", "100")},
                          {{"src", "pair"}, {"src", "plus"}});
  EXPECT_EQ(run(g, ints({1, 2, 3})).value(), ints({101, 3, 102, 103, 3}));
}

TEST_P(Executor, FirstErrorInItemAtATimeOrderWins) {
  // Stage 1 fails at item 5 (a string), stage 2 at item 2 (INT64_MAX overflows): stage 2 first.
  std::vector<N> nodes = {calc("first", "add", "1"), calc("second", "add", "1")};
  std::vector<Value> items = ints({0, 1, kMax - 1, 3, 4});
  items.push_back(Value::string("s"));
  items.push_back(Value::integer(6));
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), items), StatusCode::kOverflow, "second", 2));
  // Stage 1 fails at item 2; stage 2 would fail at item 4 but never sees it.
  items = ints({0, 1});
  items.push_back(Value::string("s"));
  items.push_back(Value::integer(3));
  items.push_back(Value::integer(kMax - 1));
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), items), StatusCode::kTypeError, "first", 2));
  // Three stages: the middle one fails earliest.
  nodes = {{"f1", "FailOn", R"({"value": 9})"}, {"f2", "FailOn", R"({"value": 4})"}, {"f3", "FailOn", R"({"value": 6})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({6, 1, 4, 9})), StatusCode::kValueError, "f3", 0));
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 4, 6, 9})), StatusCode::kValueError, "f2", 1));
}

TEST_P(Executor, ItemIndexCountsTheFailingNodesOwnInput) {
  // Twice turns [1, 2, 3] into [1, 1, 2, 2, 3, 3]; the first 3 is FailOn's input 4.
  std::vector<N> nodes = {{"t", "Twice"}, {"f", "FailOn", R"({"value": 3})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2, 3})), StatusCode::kValueError, "f", 4));
  // Pair turns [1..6] into [3, 7, 11]: 7 is FailOn's input 1.
  nodes = {{"p", "Pair"}, {"f", "FailOn", R"({"value": 7})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2, 3, 4, 5, 6})), StatusCode::kValueError, "f", 1));
}

TEST_P(Executor, FlushEmissionsTravelDownstream) {
  std::vector<N> nodes = {{"p", "Pair"}, calc("plus", "add", "100")};
  Result<std::vector<Value>> r = run(compile_chain(nodes, mode()), ints({1, 2, 3, 4, 5}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  if (mode() == Mode::kChain) {
    EXPECT_EQ(*r, ints({103, 107, 105}));
  }
  // Two buffering stages: the first one's flush output is paired by the second.
  nodes = {{"p1", "Pair", R"({"tag": "p1"})"}, {"p2", "Pair", R"({"tag": "p2"})"}};
  r = run(compile_chain(nodes, Mode::kChain), ints({1, 2, 3, 4, 5}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, ints({10, 5}));  // p1: 3, 7 and flush 5; p2: 3 + 7, then flush 5
  r = run(compile_chain(nodes, Mode::kChain), ints({1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(r.value(), ints({10, 18}));  // p1: 3, 7, 11 and flush 7; p2: 10, 11 + 7
  // A flush emission that fails downstream: its index continues the node's input stream.
  nodes = {{"p", "Pair"}, {"f", "FailOn", R"({"value": 5})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2, 3, 4, 5})), StatusCode::kValueError, "f", 2));
}

TEST_P(Executor, FlushRunsAtEndOfInputInTopologicalOrder) {
  std::vector<N> nodes = {{"p1", "Probe", R"({"tag": "p1"})"}, {"p2", "Probe", R"({"tag": "p2"})"}};
  Result<std::vector<Value>> r = run(compile_chain(nodes, mode()), ints({1, 2}));
  ASSERT_TRUE(r.ok());
  const auto& ev = events();
  auto at = [&](const std::string& e) { return std::find(ev.begin(), ev.end(), e) - ev.begin(); };
  ASSERT_LT(at("flush p1"), static_cast<long>(ev.size()));
  EXPECT_LT(at("flush p1"), at("flush p2"));
  // Every item has passed through every node before the first flush.
  EXPECT_LT(at("process p2 2"), at("flush p1"));
  EXPECT_LT(at("flush p2"), at("close p1"));
}

TEST_P(Executor, NoFlushAfterAnError) {
  // The failure is upstream of the probe.
  std::vector<N> nodes = {{"f", "FailOn", R"({"value": 2, "tag": "f"})"}, {"p", "Probe", R"({"tag": "p"})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2, 3})), StatusCode::kValueError, "f", 1));
  EXPECT_EQ(std::count(events().begin(), events().end(), "flush f"), 0);
  EXPECT_EQ(std::count(events().begin(), events().end(), "flush p"), 0);
  EXPECT_EQ(std::count(events().begin(), events().end(), "close p"), 1);  // close always runs
  // The failure is downstream of the probe: in item-at-a-time order it happens before the end of
  // input, so the probe's flush must not run either.
  events().clear();
  nodes = {{"p", "Probe", R"({"tag": "p"})"}, {"f", "FailOn", R"({"value": 2, "tag": "f"})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2, 3})), StatusCode::kValueError, "f", 1));
  EXPECT_EQ(std::count(events().begin(), events().end(), "flush p"), 0);
  EXPECT_EQ(std::count(events().begin(), events().end(), "close p"), 1);
  // A failing flush stops later flushes.
  events().clear();
  nodes = {{"ff", "Flusher", R"({"tag": "ff"})"}, {"p", "Probe", R"({"tag": "p"})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1})), StatusCode::kValueError, "ff", std::nullopt));
  EXPECT_EQ(std::count(events().begin(), events().end(), "flush ff"), 1);
  EXPECT_EQ(std::count(events().begin(), events().end(), "flush p"), 0);
}

TEST_P(Executor, FlushErrors) {
  // The flush's own error has no item index ...
  std::vector<N> nodes = {{"ff", "Flusher", R"({"emit": [99]})"}, calc("plus", "add", "1")};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2})), StatusCode::kValueError, "ff", std::nullopt));
  // ... but what it emitted first travels downstream, and a failure there happened earlier.
  nodes = {{"ff", "Flusher", R"({"emit": ["s"]})"}, calc("plus", "add", "1")};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2})), StatusCode::kTypeError, "plus", 2));
}

TEST_P(Executor, OpenFailureClosesWhatWasOpened) {
  std::vector<N> nodes = {{"p1", "Probe", R"({"tag": "p1"})"}, {"p2", "Probe", R"({"tag": "p2", "fail_open": true})"}};
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1})), StatusCode::kValueError, "p2", std::nullopt));
  EXPECT_EQ(std::count(events().begin(), events().end(), "process p1 1"), 0);
  EXPECT_EQ(std::count(events().begin(), events().end(), "close p1"), 1);
}

TEST_P(Executor, CloseRunsInReverseOrderAndItsFailureReplacesTheResult) {
  std::vector<N> nodes = {{"p1", "Probe", R"({"tag": "p1", "fail_close": true})"},
                          {"p2", "Probe", R"({"tag": "p2", "fail_close": true})"},
                          {"f", "FailOn", R"({"value": 2, "tag": "f"})"}};
  // The run fails at f, then both closes fail: the last close to fail (p1, closed last) wins, as the
  // outermost `finally` does in Python.
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, mode()), ints({1, 2})), StatusCode::kValueError, "p1", std::nullopt));
  auto pos = [](const std::string& e) { return std::find(events().begin(), events().end(), e) - events().begin(); };
  EXPECT_LT(pos("close p2"), pos("close p1"));
}

TEST_P(Executor, AStopCheckThatSaysStopEndsTheRunWithItsNodesClosed) {
  std::vector<N> nodes = {{"p1", "Probe", R"({"tag": "p1"})"}, {"p2", "Probe", R"({"tag": "p2"})"},
                          {"p3", "Probe", R"({"tag": "p3"})"}};
  int asked = 0;
  const StopCheck stop = [&asked] { return ++asked > 2; };  // go on twice, then stop
  Batch in;
  in.items = ints({1, 2, 3, 4});
  Result<Batch> r = run_batch(compile_chain(nodes, mode()), std::move(in), nullptr, &stop);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(r.status().message(), "the run was stopped");
  EXPECT_EQ(asked, 3);
  // Chain: asked before each stage, so p1 and p2 ran over every item and p3 over none; push: asked
  // before each item, so items 1 and 2 went through all three and 3 and 4 through none.
  const auto count = [](const std::string& e) { return std::count(events().begin(), events().end(), e); };
  EXPECT_EQ(count("process p2 4"), mode() == Mode::kChain ? 1 : 0);
  EXPECT_EQ(count("process p3 1"), mode() == Mode::kChain ? 0 : 1);
  EXPECT_EQ(count("process p3 2"), mode() == Mode::kChain ? 0 : 1);
  for (const char* closed : {"close p1", "close p2", "close p3"}) EXPECT_EQ(count(closed), 1) << closed;
}

TEST_P(Executor, AStopCheckThatNeverSaysStopChangesNothing) {
  std::vector<N> nodes = {{"p1", "Probe", R"({"tag": "p1"})"}};
  const StopCheck stop = [] { return false; };
  Batch in;
  in.items = ints({1, 2});
  Result<Batch> r = run_batch(compile_chain(nodes, mode()), std::move(in), nullptr, &stop);
  Result<std::vector<Value>> unchecked = run(compile_chain(nodes, mode()), ints({1, 2}));
  ASSERT_TRUE(r.ok() && unchecked.ok()) << r.status().to_string();
  r->box();
  EXPECT_EQ(r->items, *unchecked);
  EXPECT_EQ(r->items.size(), mode() == Mode::kChain ? 2u : 4u);  // push: the isolated PassThrough too
}

TEST_P(Executor, CloseFailuresKeepTheErrorsTheyReplacedOldestFirst) {
  auto where = [](const Status& s) {
    return s.node_id() + (s.item_index() ? " item " + std::to_string(*s.item_index()) : " end") + ": " + s.message();
  };
  std::vector<N> nodes = {{"p1", "Probe", R"({"tag": "p1", "fail_close": true})"},
                          {"p2", "Probe", R"({"tag": "p2", "fail_close": true})"},
                          {"f", "FailOn", R"({"value": 2, "tag": "f"})"}};
  std::vector<Status> replaced = {InternalError("left from an earlier run")};  // cleared by the run
  Result<std::vector<Value>> r = run(compile_chain(nodes, mode()), ints({1, 2, 3}), &replaced);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(where(r.status()), "p1 end: close failed p1");
  // What a Python run chains as __context__: p1's close replaced p2's, which replaced f's failure.
  ASSERT_EQ(replaced.size(), 2u);
  EXPECT_EQ(where(replaced[0]), "f item 1: " + replaced[0].message());
  EXPECT_EQ(replaced[0].code(), StatusCode::kValueError);
  EXPECT_EQ(where(replaced[1]), "p2 end: close failed p2");

  // A clean run: the close failure replaces a success, which is no error to keep.
  nodes = {{"p1", "Probe", R"({"tag": "p1", "fail_close": true})"}, {"p2", "Probe", R"({"tag": "p2"})"}};
  r = run(compile_chain(nodes, mode()), ints({1}), &replaced);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(where(r.status()), "p1 end: close failed p1");
  EXPECT_TRUE(replaced.empty());

  // An open failure, replaced by the close of a node opened before it.
  nodes = {{"p1", "Probe", R"({"tag": "p1", "fail_close": true})"},
           {"p2", "Probe", R"({"tag": "p2", "fail_open": true, "fail_close": true})"}};
  r = run(compile_chain(nodes, mode()), ints({1}), &replaced);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(where(r.status()), "p1 end: close failed p1");
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(where(replaced[0]), "p2 end: open failed");  // p2 never opened, so it is not closed

  // Nothing fails: nothing replaced.
  nodes = {{"p1", "Probe", R"({"tag": "p1"})"}};
  replaced = {InternalError("stale")};
  ASSERT_TRUE(run(compile_chain(nodes, mode()), ints({1}), &replaced).ok());
  EXPECT_TRUE(replaced.empty());
}

INSTANTIATE_TEST_SUITE_P(BothPaths, Executor, ::testing::Values(Mode::kChain, Mode::kPush),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return info.param == Mode::kChain ? std::string("Chain") : std::string("Push");
                         });

// ---------------------------------------------------------------------------------------------
// External nodes (what the Python binding supplies for nodes that run as Python)

TEST_F(ExecutorChain, ExternalNodesStandInForTypesTheRegistryLacks) {
  Manifest m;
  m.version = "v1";
  m.nodes.push_back(to_spec({"p", "PassThroughNode"}));
  m.nodes.push_back(to_spec({"user", "SomeoneElsesType", R"({"anything": [1, 2]})"}));
  EXPECT_EQ(Graph::compile(m, test_registry()).status().code(), StatusCode::kUnknownNodeType);
  ExternalNodes external;
  external["user"] = ExternalNode{"SomeoneElsesType", [](const Value&) -> Result<std::unique_ptr<Node>> {
                                    return std::unique_ptr<Node>(std::make_unique<Twice>());
                                  }};
  Result<Graph> g = Graph::compile(m, test_registry(), &external);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_TRUE(g->nodes()[1].external);
  EXPECT_EQ(g->nodes()[1].type_name, "SomeoneElsesType");
  Result<std::vector<Value>> out = run(*g, {Value::integer(7)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, (std::vector<Value>{Value::integer(7), Value::integer(7)}));
}

// ---------------------------------------------------------------------------------------------
// Column batches

TEST_F(ExecutorChain, ItemsCarryingBuffersRunInBlocksWithItemAtATimeResultsAndErrors) {
  // An array first makes the chain run in blocks of 32 items (executor.cpp); the results and the
  // first-error rule must be those of item-at-a-time order across block boundaries.
  std::vector<Value> items = {Value::array(column<int64_t>({0}))};
  for (int64_t i = 1; i < 100; ++i) items.push_back(Value::integer(i));
  std::vector<N> nodes = {{"t", "Twice"}, {"p", "Probe", R"({"tag": "p"})"}};
  Result<std::vector<Value>> blocks = run(compile_chain(nodes, Mode::kChain), items);
  ASSERT_TRUE(blocks.ok()) << blocks.status().to_string();
  std::vector<Value> expected;
  for (const Value& v : items) expected.insert(expected.end(), {v, v});
  EXPECT_EQ(*blocks, expected);
  nodes = {{"f1", "FailOn", R"({"value": 70})"}, {"f2", "FailOn", R"({"value": 40})"}};  // blocks 3, 2
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, Mode::kChain), items), StatusCode::kValueError, "f2", 40));
  nodes = {{"f1", "FailOn", R"({"value": 35})"}, {"f2", "FailOn", R"({"value": 33})"}};  // one block
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, Mode::kChain), items), StatusCode::kValueError, "f2", 33));
  nodes = {{"f1", "FailOn", R"({"value": 31})"}, {"f2", "FailOn", R"({"value": 32})"}};  // blocks 1, 2
  EXPECT_TRUE(failed_with(run(compile_chain(nodes, Mode::kChain), items), StatusCode::kValueError, "f1", 31));
}

TEST_F(ExecutorChain, ColumnThroughPassThroughIsTheSameArray) {
  Graph g = compile_chain({{"p1", "PassThroughNode"}, {"p2", "PassThrough"}}, Mode::kChain);
  auto col = column<int64_t>({1, 2, 3});
  Result<Batch> b = run_column(g, col);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->is_column());
  EXPECT_EQ(b->column.get(), col.get());
}

TEST_F(ExecutorChain, ColumnThroughCalculatorKeepsNumpyDtypes) {
  Result<Batch> b = run_column(compile_chain({calc("c", "add", "1")}, Mode::kChain), column<int64_t>({1, 2, 3}));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->is_column());
  EXPECT_EQ(b->column->dtype(), DType::kInt64);
  EXPECT_EQ(std::vector<int64_t>(b->column->data_as<int64_t>(), b->column->data_as<int64_t>() + 3),
            (std::vector<int64_t>{2, 3, 4}));

  b = run_column(compile_chain({calc("c", "divide", "2")}, Mode::kChain), column<int64_t>({1, 2, 3}));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->is_column());
  EXPECT_EQ(b->column->dtype(), DType::kFloat64);
  EXPECT_EQ(std::vector<double>(b->column->data_as<double>(), b->column->data_as<double>() + 3),
            (std::vector<double>{0.5, 1.0, 1.5}));

  b = run_column(compile_chain({calc("c", "multiply", "2"), calc("d", "add", "0.5")}, Mode::kChain),
                 column<float>({1.0f, 2.5f}));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->column->dtype(), DType::kFloat32);
  EXPECT_EQ(b->column->data_as<float>()[1], 5.5f);
}

TEST_F(ExecutorChain, ColumnErrorReportsTheElementIndex) {
  Graph g = compile_chain({calc("c", "add", "1")}, Mode::kChain);
  EXPECT_TRUE(failed_with(run_column_as_items(g, column<int64_t>({1, 2, kMax, 4})), StatusCode::kOverflow, "c", 2));
  // An operand that does not fit the dtype fails at element 0.
  g = compile_chain({calc("c", "add", "4294967296")}, Mode::kChain);
  EXPECT_TRUE(failed_with(run_column_as_items(g, column<int32_t>({1, 2})), StatusCode::kOverflow, "c", 0));
  // The first-error rule holds across column stages: stage 1 fails at element 5, stage 2 at 2.
  g = compile_chain({calc("first", "add", "1"), calc("second", "multiply", "2")}, Mode::kChain);
  EXPECT_TRUE(failed_with(run_column_as_items(g, column<int64_t>({0, 1, int64_t{1} << 62, 3, 4, kMax, 6})),
                          StatusCode::kOverflow, "second", 2));
  EXPECT_TRUE(failed_with(run_column_as_items(g, column<int64_t>({0, kMax, int64_t{1} << 62})),
                          StatusCode::kOverflow, "first", 1));
  // A dtype without a column kernel is boxed and then rejected item by item.
  auto int8 = NDArray::allocate(DType::kInt8, {2});
  EXPECT_TRUE(failed_with(run_column_as_items(compile_chain({calc("c", "add", "1")}, Mode::kChain), int8),
                          StatusCode::kTypeError, "c", 0));
}

TEST_F(ExecutorChain, NodeWithoutColumnPathGetsBoxedItems) {
  auto col = column<int64_t>({5, 6, 7});
  std::vector<Value> boxed;
  for (int64_t i = 0; i < col->size(); ++i) boxed.push_back(Value::array(col->element(i)));
  for (const std::vector<N>& nodes : std::vector<std::vector<N>>{
           {calc("c", "add", "1"), {"p", "Probe", R"({"tag": "p"})"}},
           {{"p", "Probe", R"({"tag": "p"})"}, calc("c", "add", "1")},
           {{"p", "Probe", R"({"tag": "p"})"}}}) {
    Graph g = compile_chain(nodes, Mode::kChain);
    Result<std::vector<Value>> from_column = run_column_as_items(g, col);
    Result<std::vector<Value>> from_items = run(g, boxed);
    ASSERT_TRUE(from_column.ok()) << from_column.status().to_string();
    ASSERT_TRUE(from_items.ok());
    EXPECT_EQ(*from_column, *from_items);
    ASSERT_EQ(from_column->size(), 3u);
    ASSERT_TRUE((*from_column)[0].is_array());
    EXPECT_TRUE((*from_column)[0].as_array().numpy_scalar());
    EXPECT_EQ((*from_column)[0].as_array().dtype(), DType::kInt64);
  }
  // The probe saw numpy scalars, one per element.
  EXPECT_NE(std::find(events().begin(), events().end(), "process p 7"), events().end());
}

TEST_F(ExecutorChain, FlushAfterAColumnStageIsAppendedBoxed) {
  Graph g = compile_chain({{"fl", "Flusher", R"({"emit": [100], "fail": false})"}, calc("c", "add", "1")}, Mode::kChain);
  Result<std::vector<Value>> r = run_column_as_items(g, column<int64_t>({1, 2}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 3u);
  ASSERT_TRUE((*r)[0].is_array());
  EXPECT_TRUE((*r)[0].as_array().numpy_scalar());
  EXPECT_EQ((*r)[1].as_array().data_as<int64_t>()[0], 3);
  EXPECT_EQ((*r)[2], Value::integer(101));  // the flushed Python int stays a Python int
  // Pair takes Python ints only: numpy scalars from a column are refused at item 0.
  EXPECT_TRUE(failed_with(run_column_as_items(compile_chain({{"p", "Pair"}}, Mode::kChain), column<int64_t>({1, 2})),
                          StatusCode::kTypeError, "p", 0));
}

}  // namespace
}  // namespace remotemedia
