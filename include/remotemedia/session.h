// Session: a compiled graph running on a stream (docs/SESSIONS.md).
//
// Items are pushed one at a time and processed item at a time, depth-first, by one thread at a time
// (so node state needs no locks and outputs keep their order); the outputs, concatenated, are
// exactly what run() gives for all the items. When the session is idle the pushing thread processes
// the item itself (the lowest latency); otherwise the item waits in the session's queue for the
// thread already processing, and a consumer that frees room resumes processing on the WorkerPool.
//
// Backpressure: `capacity` bounds items waiting (the one being processed included) plus outputs not
// yet consumed; try_push answers kFull, push() waits. The next item is processed only while that
// total is within capacity, so it exceeds capacity by at most one item's outputs. A session ends
// by end() (then flushes), by a node's failure, or by cancel(); after that, pushes are refused. A
// graph without nodes passes items straight through, as run() does.
//
// Errors follow run(): every opened node is closed, in reverse order, also after a failure, and a
// close() failure replaces the session's outcome (as an exception in a Python `finally` does): a
// session that ended cleanly fails with it, a failed one reports it instead of the node's error,
// which becomes one of replaced_errors(). So a failure is reported (by try_pop, push and error(),
// and as the "failed" state) only once every node is closed; an item pushed in between is dropped,
// as one queued behind the failing item is.
//
// Every public method is thread-safe. Items and errors are dropped with none of the session's
// locks held (the last reference to a Python object takes the GIL), so a thread holding the GIL
// may call try_pop, error(), closed() and metrics() (the binding does, and its garbage collector
// support reads error()).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remotemedia/graph.h"
#include "remotemedia/histogram.h"
#include "remotemedia/status.h"
#include "remotemedia/value.h"
#include "remotemedia/worker_pool.h"

namespace remotemedia {

struct SessionOptions {
  size_t capacity = 64;
  // An idle session processes a pushed item on the pushing thread; false hands every item to the
  // pool (the producer never runs node code, and sessions pushed from one thread run in parallel).
  bool process_on_push = true;
  WorkerPool* pool = nullptr;  // nullptr: WorkerPool::shared()
  // Called with no lock held, from whichever thread, when try_pop may return something new or
  // try_push may succeed again. Must not block for long.
  std::function<void()> notify = nullptr;
  // Callback mode: when set, outputs go here (in order, on the processing thread) instead of the
  // session's output queue.
  std::function<void(Value)> on_output = nullptr;
};

struct SessionMetrics {
  struct NodeStats {
    std::string id;
    std::string node_type;
    uint64_t items_in = 0;
    uint64_t items_out = 0;
    uint64_t errors = 0;
    uint64_t process_ns_p50 = 0;
    uint64_t process_ns_p99 = 0;
  };
  std::string state;  // running, ended, failed, cancelled
  uint64_t items_in = 0;
  uint64_t items_out = 0;
  uint64_t queued = 0;           // pushed, not yet processed (the item being processed included)
  uint64_t pending_outputs = 0;  // produced, not yet popped
  uint64_t latency_ns_p50 = 0, latency_ns_p99 = 0, latency_ns_p999 = 0, latency_count = 0;
  std::vector<NodeStats> nodes;

  std::string to_json() const;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class PushResult { kAccepted, kFull, kClosed };
  enum class PopResult { kItem, kEmpty, kEnd, kError };

  // Makes the node instances and opens them. An open failure is returned after the nodes opened
  // before it are closed, as run() does: a close failure replaces it, and `replaced_errors` (when
  // given) receives the errors replaced, oldest first.
  static Result<std::shared_ptr<Session>> open(std::shared_ptr<const Graph> graph, SessionOptions options,
                                               std::vector<Status>* replaced_errors = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  PushResult try_push(Value item);
  // Waits while full. kClosed after end(), a failure or cancel() is an error Status (the failure's
  // own, or a kCancelled / "ended" one).
  Status push(Value item);
  // End of input: once the queue is processed, every node flushes. Idempotent.
  void end();
  // kItem (and *out), kEmpty (nothing yet), kEnd (all outputs consumed after a normal end), or
  // kError (all outputs before the failure consumed; error() says what).
  PopResult try_pop(Value* out);
  // As try_pop, waiting up to `timeout` while it would be kEmpty.
  PopResult pop(Value* out, std::chrono::nanoseconds timeout);
  // The session's error: OK while it runs or after a clean end; once it has failed, the last
  // failure (a node's, or a close() failure that replaced it); kCancelled after cancel().
  Status error() const;
  // The errors the session's error replaced, oldest first: the node's failure, then each close()
  // failure but the last. (The binding makes each the __context__ of the next, as Python does.)
  std::vector<Status> replaced_errors() const;
  // Drops what is queued, stops after the item being processed, closes the nodes. Idempotent.
  void cancel();
  // Blocks until the nodes are closed (after end and flush, a failure, or cancel).
  void wait_closed();
  bool closed() const;

  SessionMetrics metrics() const;

 private:
  enum class State { kRunning, kEnded, kFailed, kCancelled };
  struct Pending {
    Value item;
    uint64_t pushed = 0;  // tick_clock (src/core/push_engine.h) ticks
  };
  class Observer;

  Session(std::shared_ptr<const Graph> graph, SessionOptions options);
  // Runs queued work until there is none it may do; the caller owns `busy_`.
  void process_loop();
  void close_nodes();
  void finish();
  // Claims `busy_` when work is waiting and nobody runs it; true when claimed.
  bool claim_locked();
  void schedule();
  void notify() const;
  size_t held_locked() const { return input_.size() + in_flight_ + outputs_.size(); }

  std::shared_ptr<const Graph> graph_;
  SessionOptions options_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<class PushEngine> engine_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Pending> input_;
  std::deque<Value> outputs_;
  size_t in_flight_ = 0;  // 1 while an item taken from input_ is processed
  State state_ = State::kRunning;  // final states other than kCancelled are set once closed
  Status error_;
  Status failure_;                   // a node's failure, until the nodes are closed
  std::vector<Status> replaced_;     // see replaced_errors()
  bool flushed_ = false;             // the flush at end of input succeeded
  bool ended_ = false;   // end() was called
  bool busy_ = false;    // a thread is in process_loop (or closing)
  bool closed_ = false;  // nodes closed

  std::atomic<uint64_t> items_in_{0};
  std::atomic<uint64_t> items_out_{0};
  Histogram latency_ticks_;  // tick_clock ticks: converted when read
};

}  // namespace remotemedia
