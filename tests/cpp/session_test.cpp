// Streaming sessions (include/remotemedia/session.h): the same outputs as run(), in order, through
// inline and pooled processing; backpressure; failure and cancellation; many sessions on many
// threads with every item accounted for (run this file under ThreadSanitizer too: scripts/test.sh).
#include "remotemedia/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/push_engine.h"
#include "remotemedia/executor.h"
#include "remotemedia/json.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

namespace remotemedia {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const Graph> compile(const std::string& manifest_json, const ExternalNodes* external = nullptr) {
  Result<Manifest> m = parse_manifest(manifest_json);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  Result<Graph> g = Graph::compile(m.value(), Registry::global(), external);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return std::make_shared<const Graph>(std::move(g).value());
}

const char* kFiveNodes = R"({"version": "v1", "nodes": [
    {"id": "a", "node_type": "PassThrough"},
    {"id": "b", "node_type": "Calculator", "params": {"operation": "add", "operand": 1}},
    {"id": "c", "node_type": "Filter", "params": {"condition": "item % 3 != 0"}},
    {"id": "d", "node_type": "Buffer", "params": {"buffer_size": 2}},
    {"id": "e", "node_type": "PassThrough"}]})";

std::vector<Value> drain(Session& s) {
  std::vector<Value> out;
  for (;;) {
    Value v;
    Session::PopResult r = s.pop(&v, 5s);
    if (r == Session::PopResult::kItem) out.push_back(std::move(v));
    else {
      EXPECT_EQ(r, Session::PopResult::kEnd) << s.error().to_string();
      return out;
    }
  }
}

std::vector<Value> range(int64_t n) {
  std::vector<Value> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(Value::integer(i));
  return v;
}

class SessionModes : public ::testing::TestWithParam<bool> {};

TEST_P(SessionModes, OutputsEqualRunOfAllItemsInOrder) {
  auto graph = compile(kFiveNodes);
  SessionOptions opts;
  opts.capacity = 4;
  opts.process_on_push = GetParam();
  auto s = Session::open(graph, opts);
  ASSERT_TRUE(s.ok());
  std::vector<Value> got;
  std::thread consumer([&] { got = drain(**s); });
  for (Value& v : range(1000)) ASSERT_TRUE((*s)->push(std::move(v)).ok());
  (*s)->end();
  consumer.join();
  Result<std::vector<Value>> expected = run(*graph, range(1000));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(got, expected.value());
  EXPECT_EQ((*s)->metrics().state, "ended");
}

TEST_P(SessionModes, AGraphWithoutNodesPassesItemsThrough) {
  auto graph = compile(R"({"version": "v1", "nodes": []})");
  SessionOptions opts;
  opts.capacity = 3;
  opts.process_on_push = GetParam();
  auto s = Session::open(graph, opts);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  std::vector<Value> got;
  std::thread consumer([&] { got = drain(**s); });
  for (Value& v : range(100)) ASSERT_TRUE((*s)->push(std::move(v)).ok());
  (*s)->end();
  consumer.join();
  EXPECT_EQ(got, range(100));
  EXPECT_EQ(got, run(*graph, range(100)).value());
  SessionMetrics m = (*s)->metrics();
  EXPECT_EQ(m.state, "ended");
  EXPECT_EQ(m.items_in, 100u);
  EXPECT_EQ(m.items_out, 100u);
  EXPECT_EQ(m.latency_count, 100u);
  EXPECT_TRUE(m.nodes.empty());
}

INSTANTIATE_TEST_SUITE_P(InlineAndPooled, SessionModes, ::testing::Bool());

// Emits each item twice; the first process() call waits until the test opens the gate.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool open = false;
};

class GatedTwice final : public Node {
 public:
  explicit GatedTwice(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  Status process(Value item, Emitter& out) override {
    {
      std::unique_lock lock(gate_->mutex);
      gate_->entered = true;
      gate_->changed.notify_all();
      gate_->changed.wait(lock, [&] { return gate_->open; });
    }
    out.emit(item);
    out.emit(std::move(item));
    return Status::OK();
  }

 private:
  std::shared_ptr<Gate> gate_;
};

// The item being processed counts as held, and no item is taken while the session holds more than
// capacity: with nothing consumed it holds at most capacity plus one item's two outputs (a worker
// that took items while only the outputs were under capacity held 7 here).
TEST(Session, AnItemInProcessCountsAndNoneIsTakenOverCapacity) {
  auto gate = std::make_shared<Gate>();
  ExternalNodes external;
  external["g"] = ExternalNode{"GatedTwice", [gate](const Value&) -> Result<std::unique_ptr<Node>> {
                                 return std::unique_ptr<Node>(std::make_unique<GatedTwice>(gate));
                               }};
  constexpr size_t kCapacity = 4;
  auto s = Session::open(compile(R"({"version": "v1", "nodes": [{"id": "g", "node_type": "GatedTwice"}]})", &external),
                         SessionOptions{.capacity = kCapacity});
  ASSERT_TRUE(s.ok());
  auto held = [&] {
    SessionMetrics metrics = (*s)->metrics();
    return metrics.queued + metrics.pending_outputs;
  };

  // The first item is processed on its pushing thread, which waits at the gate.
  std::thread first([&] { EXPECT_EQ((*s)->try_push(Value::integer(0)), Session::PushResult::kAccepted); });
  {
    std::unique_lock lock(gate->mutex);
    gate->changed.wait(lock, [&] { return gate->entered; });
  }
  size_t accepted = 0;
  for (int64_t i = 1; (*s)->try_push(Value::integer(i)) == Session::PushResult::kAccepted; ++i) ++accepted;
  EXPECT_EQ(accepted, kCapacity - 1);  // the item at the gate is held too
  EXPECT_EQ(held(), kCapacity);
  {
    std::lock_guard lock(gate->mutex);
    gate->open = true;
  }
  gate->changed.notify_all();
  first.join();  // its try_push returns once the thread has nothing more it may process
  EXPECT_LE(held(), kCapacity + 2);
  EXPECT_EQ((*s)->metrics().pending_outputs, 2u);  // item 0 only: then 5 were held

  std::vector<Value> got;
  Value v;
  while (got.size() < 2 * (accepted + 1)) {
    ASSERT_EQ((*s)->pop(&v, 5s), Session::PopResult::kItem);
    got.push_back(v);
    EXPECT_LE(held(), kCapacity + 2);
  }
  (*s)->end();
  EXPECT_EQ((*s)->pop(&v, 5s), Session::PopResult::kEnd);
  std::vector<Value> expected;
  for (int64_t i = 0; i <= static_cast<int64_t>(accepted); ++i) expected.insert(expected.end(), 2, Value::integer(i));
  EXPECT_EQ(got, expected);
}

TEST(Session, BackpressureBoundsWhatItHolds) {
  auto s = Session::open(compile(kFiveNodes), SessionOptions{.capacity = 8});
  ASSERT_TRUE(s.ok());
  size_t accepted = 0;
  for (Value& v : range(100)) {
    if ((*s)->try_push(std::move(v)) != Session::PushResult::kAccepted) break;
    ++accepted;
  }
  // Nothing is consumed: the session holds at most `capacity` (plus one item's expansion).
  SessionMetrics m = (*s)->metrics();
  EXPECT_LT(accepted, 100u);
  EXPECT_LE(m.queued + m.pending_outputs, 8u + 1u);
  Value first;
  ASSERT_EQ((*s)->try_pop(&first), Session::PopResult::kItem);
  EXPECT_EQ(to_json(first).value(), "[1, 2]");  // 0, 1 -> 1, 2 (both kept) -> one pair
}

TEST(Session, FailureEndsTheSessionAfterTheOutputsBeforeIt) {
  auto s = Session::open(compile(R"({"version": "v1", "nodes": [
      {"id": "m", "node_type": "Map", "params": {"expression": "10 // item"}}]})"),
                         SessionOptions{});
  ASSERT_TRUE(s.ok());
  for (int64_t x : {5, 2, 0, 1}) (void)(*s)->try_push(Value::integer(x));
  Value v;
  ASSERT_EQ((*s)->pop(&v, 1s), Session::PopResult::kItem);
  EXPECT_EQ(v, Value::integer(2));
  ASSERT_EQ((*s)->pop(&v, 1s), Session::PopResult::kItem);
  EXPECT_EQ(v, Value::integer(5));
  EXPECT_EQ((*s)->pop(&v, 1s), Session::PopResult::kError);
  EXPECT_EQ((*s)->error().code(), StatusCode::kZeroDivision);
  EXPECT_EQ((*s)->error().item_index(), 2);
  EXPECT_EQ((*s)->try_push(Value::integer(1)), Session::PushResult::kClosed);
  EXPECT_EQ((*s)->push(Value::integer(1)).code(), StatusCode::kZeroDivision);
  (*s)->wait_closed();
}

TEST(Session, CancelDropsQueuedItemsAndClosesTheNodes) {
  SessionOptions opts;
  opts.capacity = 1000;
  opts.process_on_push = false;
  auto s = Session::open(compile(kFiveNodes), opts);
  ASSERT_TRUE(s.ok());
  for (Value& v : range(500)) (void)(*s)->try_push(std::move(v));
  (*s)->cancel();
  (*s)->wait_closed();
  EXPECT_EQ((*s)->metrics().state, "cancelled");
  EXPECT_EQ((*s)->metrics().queued, 0u);
  EXPECT_EQ((*s)->try_push(Value::integer(1)), Session::PushResult::kClosed);
  Value v;
  Session::PopResult r;
  while ((r = (*s)->try_pop(&v)) == Session::PopResult::kItem) {
  }
  EXPECT_EQ(r, Session::PopResult::kError);
  EXPECT_EQ((*s)->error().code(), StatusCode::kCancelled);
}

TEST(Session, CallbackModeDeliversInOrderOnTheProcessingThread) {
  std::vector<Value> got;
  SessionOptions opts;
  opts.on_output = [&](Value v) { got.push_back(std::move(v)); };
  auto s = Session::open(compile(kFiveNodes), opts);
  ASSERT_TRUE(s.ok());
  for (Value& v : range(50)) ASSERT_TRUE((*s)->push(std::move(v)).ok());
  (*s)->end();
  (*s)->wait_closed();
  EXPECT_EQ(got, run(*compile(kFiveNodes), range(50)).value());
}

TEST(Session, MetricsCountItemsPerNode) {
  auto s = Session::open(compile(kFiveNodes), SessionOptions{.capacity = 1000});
  ASSERT_TRUE(s.ok());
  for (Value& v : range(30)) ASSERT_TRUE((*s)->push(std::move(v)).ok());
  (*s)->end();
  (*s)->wait_closed();
  SessionMetrics m = (*s)->metrics();
  EXPECT_EQ(m.items_in, 30u);
  ASSERT_EQ(m.nodes.size(), 5u);
  EXPECT_EQ(m.nodes[0].items_in, 30u);   // a
  EXPECT_EQ(m.nodes[2].items_in, 30u);   // c sees 1..30
  EXPECT_EQ(m.nodes[2].items_out, 20u);  // keeps the 20 not divisible by 3
  EXPECT_EQ(m.nodes[3].items_out, 10u);  // pairs
  EXPECT_EQ(m.items_out, 10u);
  EXPECT_EQ(m.latency_count, 10u);
  EXPECT_LE(m.latency_ns_p50, m.latency_ns_p99);
  EXPECT_NE(m.to_json().find("\"state\":\"ended\""), std::string::npos);
}

// What a node emits when it flushes counts in its items_out (as on the Python executor), not in
// its items_in.
TEST(Session, MetricsCountWhatAFlushEmits) {
  auto s = Session::open(compile(kFiveNodes), SessionOptions{.capacity = 1000});
  ASSERT_TRUE(s.ok());
  for (Value& v : range(31)) ASSERT_TRUE((*s)->push(std::move(v)).ok());
  (*s)->end();
  (*s)->wait_closed();
  SessionMetrics m = (*s)->metrics();
  ASSERT_EQ(m.nodes.size(), 5u);
  EXPECT_EQ(m.nodes[3].items_in, 21u);   // d: 1..31 not divisible by 3
  EXPECT_EQ(m.nodes[3].items_out, 11u);  // ten pairs, and the last item alone at the flush
  EXPECT_EQ(m.nodes[4].items_in, 11u);
  EXPECT_EQ(m.nodes[4].items_out, 11u);
  EXPECT_EQ(m.items_out, 11u);
  EXPECT_EQ(m.latency_count, 10u);  // the flush's output has no input item to measure from
  for (const auto& n : m.nodes) EXPECT_EQ(n.errors, 0u);
}

// ------------------------------------------------------------------ close failures, as in run()

// Passes items on; its open() or close() fails when told to ("cannot open <id>", "close of <id>
// failed"), and close() first waits at a gate when given one.
struct Closing {
  bool fail_open = false;
  bool fail_close = true;
  std::shared_ptr<Gate> gate = nullptr;
};

class ClosingNode final : public Node {
 public:
  ClosingNode(std::string id, Closing how) : id_(std::move(id)), how_(std::move(how)) {}
  Status open() override { return how_.fail_open ? ValueError("cannot open " + id_) : Status::OK(); }
  Status process(Value item, Emitter& out) override {
    out.emit(std::move(item));
    return Status::OK();
  }
  Status close() override {
    if (how_.gate) {
      std::unique_lock lock(how_.gate->mutex);
      how_.gate->entered = true;
      how_.gate->changed.notify_all();
      how_.gate->changed.wait(lock, [&] { return how_.gate->open; });
    }
    return how_.fail_close ? ValueError("close of " + id_ + " failed") : Status::OK();
  }

 private:
  std::string id_;
  Closing how_;
};

// `closing`'s nodes (by id) among the registry's, in `nodes_json` (the manifest's node list).
std::shared_ptr<const Graph> compile_closing(const std::string& nodes_json,
                                             const std::map<std::string, Closing>& closing) {
  ExternalNodes external;
  for (const auto& [id, how] : closing) {
    external[id] = ExternalNode{"Closing", [id = id, how = how](const Value&) -> Result<std::unique_ptr<Node>> {
                                  return std::unique_ptr<Node>(std::make_unique<ClosingNode>(id, how));
                                }};
  }
  return compile(R"({"version": "v1", "nodes": )" + nodes_json + "}", &external);
}

// A 10 // item Map after a node whose close fails.
const char* kCloseThenMap = R"([{"id": "c", "node_type": "Closing"},
    {"id": "m", "node_type": "Map", "params": {"expression": "10 // item"}}])";

std::vector<Value> ints(std::initializer_list<int64_t> xs) {
  std::vector<Value> v;
  for (int64_t x : xs) v.push_back(Value::integer(x));
  return v;
}

void expect_same_error(const Status& got, const Status& expected) {
  EXPECT_EQ(got.code(), expected.code()) << got.to_string() << " vs " << expected.to_string();
  EXPECT_EQ(got.message(), expected.message());
  EXPECT_EQ(got.node_id(), expected.node_id());
  EXPECT_EQ(got.item_index(), expected.item_index());
}

// Pushes `items` while a consumer thread pops: the outputs before the error and the final result.
std::pair<std::vector<Value>, Session::PopResult> stream_through(Session& s, std::vector<Value> items) {
  std::vector<Value> got;
  Session::PopResult last = Session::PopResult::kEmpty;
  std::thread consumer([&] {
    Value v;
    while ((last = s.pop(&v, 5s)) == Session::PopResult::kItem) got.push_back(std::move(v));
  });
  for (Value& v : items) {
    if (!s.push(std::move(v)).ok()) break;
  }
  s.end();
  consumer.join();
  return {std::move(got), last};
}

TEST_P(SessionModes, ACloseFailureReplacesANodesFailureAsInRun) {
  auto graph = compile_closing(kCloseThenMap, {{"c", Closing{}}});
  SessionOptions opts;
  opts.process_on_push = GetParam();
  auto s = Session::open(graph, opts);
  ASSERT_TRUE(s.ok());
  auto [got, last] = stream_through(**s, ints({5, 2, 0, 1}));
  EXPECT_EQ(got, ints({2, 5}));
  ASSERT_EQ(last, Session::PopResult::kError);
  Result<std::vector<Value>> expected = run(*graph, ints({5, 2, 0, 1}));
  ASSERT_FALSE(expected.ok());
  expect_same_error((*s)->error(), expected.status());
  EXPECT_EQ((*s)->error().code(), StatusCode::kValueError);
  EXPECT_EQ((*s)->error().to_string(), "node 'c' (Closing) failed at end of stream: close of c failed");
  std::vector<Status> replaced = (*s)->replaced_errors();
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0].code(), StatusCode::kZeroDivision);
  EXPECT_EQ(replaced[0].node_id(), "m");
  EXPECT_EQ(replaced[0].item_index(), 2);
  EXPECT_EQ((*s)->push(Value::integer(1)).code(), StatusCode::kValueError);  // the close failure
  EXPECT_EQ((*s)->metrics().state, "failed");
}

TEST_P(SessionModes, ACloseFailureFailsACleanEndAsInRun) {
  auto graph = compile_closing(kCloseThenMap, {{"c", Closing{}}});
  SessionOptions opts;
  opts.process_on_push = GetParam();
  auto s = Session::open(graph, opts);
  ASSERT_TRUE(s.ok());
  auto [got, last] = stream_through(**s, ints({1, 2, 5}));
  EXPECT_EQ(got, ints({10, 5, 2}));  // every output, the error after them
  ASSERT_EQ(last, Session::PopResult::kError);
  Result<std::vector<Value>> expected = run(*graph, ints({1, 2, 5}));
  ASSERT_FALSE(expected.ok());
  expect_same_error((*s)->error(), expected.status());
  EXPECT_EQ((*s)->error().node_id(), "c");
  EXPECT_EQ((*s)->error().item_index(), std::nullopt);
  EXPECT_TRUE((*s)->replaced_errors().empty());
  SessionMetrics m = (*s)->metrics();
  EXPECT_EQ(m.state, "failed");
  for (const auto& n : m.nodes) EXPECT_EQ(n.errors, 0u);  // close() is no process() or flush()
}

// The nodes close in reverse order, so the first node's close failure is the last and wins; each
// earlier error is replaced, in the order they happened.
TEST(Session, TheFirstNodesCloseFailureWinsAsInRun) {
  auto graph = compile_closing(R"([{"id": "c1", "node_type": "Closing"}, {"id": "c2", "node_type": "Closing"},
      {"id": "m", "node_type": "Map", "params": {"expression": "10 // item"}}])",
                               {{"c1", Closing{}}, {"c2", Closing{}}});
  auto s = Session::open(graph, SessionOptions{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->try_push(Value::integer(0)), Session::PushResult::kAccepted);
  Value v;
  ASSERT_EQ((*s)->pop(&v, 5s), Session::PopResult::kError);
  Result<std::vector<Value>> expected = run(*graph, ints({0}));
  ASSERT_FALSE(expected.ok());
  expect_same_error((*s)->error(), expected.status());
  EXPECT_EQ((*s)->error().node_id(), "c1");
  std::vector<Status> replaced = (*s)->replaced_errors();
  ASSERT_EQ(replaced.size(), 2u);
  EXPECT_EQ(replaced[0].node_id(), "m");
  EXPECT_EQ(replaced[0].code(), StatusCode::kZeroDivision);
  EXPECT_EQ(replaced[1].node_id(), "c2");
  EXPECT_EQ(replaced[1].message(), "close of c2 failed");
}

TEST(Session, ACloseFailureReplacesAnOpenFailureAsInRun) {
  auto graph = compile_closing(R"([{"id": "c1", "node_type": "Closing"}, {"id": "c2", "node_type": "Closing"},
      {"id": "c3", "node_type": "Closing"}])",
                               {{"c1", Closing{}}, {"c2", Closing{.fail_open = true}}, {"c3", Closing{}}});
  std::vector<Status> replaced;
  auto s = Session::open(graph, SessionOptions{}, &replaced);
  ASSERT_FALSE(s.ok());
  Result<std::vector<Value>> expected = run(*graph, ints({1}));
  ASSERT_FALSE(expected.ok());
  expect_same_error(s.status(), expected.status());
  EXPECT_EQ(s.status().message(), "close of c1 failed");  // c3 was never opened, so never closed
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0].message(), "cannot open c2");
  EXPECT_EQ(replaced[0].node_id(), "c2");
}

// Until every node is closed the failure is not reported (a close failure may still replace it):
// pops find nothing, the state is running, a push is taken (and dropped), a cancel changes
// nothing. Then the close failure is the error.
TEST(Session, AFailureIsReportedOnceTheNodesAreClosed) {
  auto gate = std::make_shared<Gate>();
  auto graph = compile_closing(kCloseThenMap, {{"c", Closing{.gate = gate}}});
  SessionOptions opts;
  opts.process_on_push = false;  // the pool processes the item and closes the nodes
  auto s = Session::open(graph, opts);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->try_push(Value::integer(0)), Session::PushResult::kAccepted);
  {
    std::unique_lock lock(gate->mutex);
    gate->changed.wait(lock, [&] { return gate->entered; });
  }
  Value v;
  EXPECT_EQ((*s)->try_pop(&v), Session::PopResult::kEmpty);
  EXPECT_EQ((*s)->pop(&v, 1ms), Session::PopResult::kEmpty);
  EXPECT_TRUE((*s)->error().ok());
  EXPECT_EQ((*s)->metrics().state, "running");
  EXPECT_EQ((*s)->try_push(Value::integer(7)), Session::PushResult::kAccepted);
  (*s)->cancel();  // the failure came first: it stands
  EXPECT_FALSE((*s)->closed());
  std::thread opener([&] {
    std::this_thread::sleep_for(10ms);
    {
      std::lock_guard lock(gate->mutex);
      gate->open = true;
    }
    gate->changed.notify_all();
  });
  EXPECT_EQ((*s)->pop(&v, 5s), Session::PopResult::kError);  // woken by the close
  opener.join();
  EXPECT_TRUE((*s)->closed());
  EXPECT_EQ((*s)->error().message(), "close of c failed");
  ASSERT_EQ((*s)->replaced_errors().size(), 1u);
  EXPECT_EQ((*s)->replaced_errors()[0].code(), StatusCode::kZeroDivision);
  SessionMetrics m = (*s)->metrics();
  EXPECT_EQ(m.state, "failed");
  EXPECT_EQ(m.queued, 0u);  // the item pushed meanwhile was dropped
  EXPECT_EQ(m.nodes[1].items_in, 1u);
}

// A cancelled session's outcome is the cancel, whatever its nodes' close() says (as before).
TEST(Session, ACloseFailureDoesNotReplaceACancel) {
  auto s = Session::open(compile_closing(kCloseThenMap, {{"c", Closing{}}}), SessionOptions{});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->push(Value::integer(1)).ok());
  (*s)->cancel();
  (*s)->wait_closed();
  EXPECT_EQ((*s)->error().code(), StatusCode::kCancelled);
  EXPECT_TRUE((*s)->replaced_errors().empty());
  EXPECT_EQ((*s)->metrics().state, "cancelled");
}

// Many sessions, producers and consumers on their own threads, pooled and inline: every output
// arrives once, in order, and the totals match.
TEST(SessionStress, ManySessionsOnManyThreadsLoseNothing) {
  auto graph = compile(R"({"version": "v1", "nodes": [
      {"id": "a", "node_type": "Calculator", "params": {"operation": "multiply", "operand": 2}},
      {"id": "b", "node_type": "PassThrough"}]})");
  constexpr int kSessions = 16;
  constexpr int64_t kItems = 3000;
  std::atomic<int64_t> lost{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < kSessions; ++k) {
    threads.emplace_back([&, k] {
      SessionOptions opts;
      opts.capacity = 16;
      opts.process_on_push = k % 2 == 0;
      auto s = Session::open(graph, opts);
      ASSERT_TRUE(s.ok());
      std::thread consumer([&] {
        int64_t expected = 0;
        Value v;
        while ((*s)->pop(&v, 10s) == Session::PopResult::kItem) {
          if (v != Value::integer(2 * expected)) ++lost;
          ++expected;
        }
        lost += kItems - expected;
      });
      for (int64_t i = 0; i < kItems; ++i) ASSERT_TRUE((*s)->push(Value::integer(i)).ok());
      (*s)->end();
      consumer.join();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(lost.load(), 0);
}

}  // namespace
}  // namespace remotemedia

// ------------------------------------------------------------------ timings (tick_clock)

namespace remotemedia {
namespace {

TEST(SessionTickClock, TicksConvertToNanoseconds) {
  const uint64_t start = tick_clock::now();
  const auto steady_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(20ms);
  const uint64_t ticks = tick_clock::now() - start;
  const double steady_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - steady_start).count();
  const double ns = static_cast<double>(tick_clock::to_ns(ticks));
  EXPECT_GE(ns, 19e6);
  EXPECT_NEAR(ns / steady_ns, 1.0, 0.01);  // a wrong rate (e.g. ticks taken for ns) is far off
}

// Sleeps `ms` in process() and passes the item on.
class SleepingNode final : public Node {
 public:
  explicit SleepingNode(int ms) : ms_(ms) {}
  Status process(Value item, Emitter& out) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms_));
    out.emit(std::move(item));
    return Status::OK();
  }

 private:
  int ms_;
};

TEST(SessionTickClock, MetricsAreInNanoseconds) {
  ExternalNodes external;
  external["slow"] = ExternalNode{"Sleeping", [](const Value&) -> Result<std::unique_ptr<Node>> {
                                    return std::unique_ptr<Node>(std::make_unique<SleepingNode>(3));
                                  }};
  auto graph = compile(R"({"version": "v1", "nodes": [{"id": "p", "node_type": "PassThrough"},
      {"id": "slow", "node_type": "Sleeping"}]})", &external);
  auto s = Session::open(graph, SessionOptions{.capacity = 100});
  ASSERT_TRUE(s.ok());
  for (Value& v : range(5)) ASSERT_TRUE((*s)->push(std::move(v)).ok());
  (*s)->end();
  EXPECT_EQ(drain(**s).size(), 5u);
  SessionMetrics m = (*s)->metrics();
  ASSERT_EQ(m.nodes.size(), 2u);
  for (const auto& n : m.nodes) {  // p's time includes delivering to slow
    EXPECT_GE(n.process_ns_p50, 3'000'000u) << n.id;
    EXPECT_LT(n.process_ns_p50, 500'000'000u) << n.id;
  }
  EXPECT_GE(m.latency_ns_p50, 3'000'000u);
  EXPECT_LT(m.latency_ns_p50, 500'000'000u);
  EXPECT_EQ(m.latency_count, 5u);
}

}  // namespace
}  // namespace remotemedia
