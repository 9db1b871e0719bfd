#include "remotemedia/session.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <utility>

#include "core/push_engine.h"

namespace remotemedia {

// Per-node counters and processing times, written by the processing thread, read by metrics().
class Session::Observer final : public NodeObserver {
 public:
  explicit Observer(size_t nodes) : stats_(nodes) {}
  void processed(size_t node, uint64_t emitted, uint64_t ticks, bool failed) override {
    Stats& s = stats_[node];
    s.items_in.fetch_add(1, std::memory_order_relaxed);
    s.items_out.fetch_add(emitted, std::memory_order_relaxed);
    if (failed) s.errors.fetch_add(1, std::memory_order_relaxed);
    s.process_ticks.record(ticks);
  }
  // A flush takes no input item and is no process() call: its outputs and failure count alone.
  void flushed(size_t node, uint64_t emitted, bool failed) override {
    Stats& s = stats_[node];
    s.items_out.fetch_add(emitted, std::memory_order_relaxed);
    if (failed) s.errors.fetch_add(1, std::memory_order_relaxed);
  }

  struct Stats {
    std::atomic<uint64_t> items_in{0}, items_out{0}, errors{0};
    Histogram process_ticks;  // tick_clock ticks: converted when read
  };
  std::vector<Stats> stats_;
};

Session::Session(std::shared_ptr<const Graph> graph, SessionOptions options)
    : graph_(std::move(graph)), options_(std::move(options)) {
  if (options_.capacity == 0) options_.capacity = 1;
  if (options_.pool == nullptr) options_.pool = &WorkerPool::shared();
}

namespace {

// `error` becomes `next` (a close failure replacing what the session had), `error` joining
// `replaced` when it was an error.
void replace_error(Status& error, Status next, std::vector<Status>& replaced) {
  if (!error.ok()) replaced.push_back(std::move(error));
  error = std::move(next);
}

}  // namespace

Result<std::shared_ptr<Session>> Session::open(std::shared_ptr<const Graph> graph, SessionOptions options,
                                               std::vector<Status>* replaced_errors) {
  std::shared_ptr<Session> s(new Session(std::move(graph), std::move(options)));
  RM_ASSIGN_OR_RETURN(s->nodes_, s->graph_->instantiate());
  for (size_t i = 0; i < s->nodes_.size(); ++i) {
    Status opened = s->nodes_[i]->open();
    if (!opened.ok()) {
      Status error = locate_error(std::move(opened), s->graph_->nodes()[i], std::nullopt);
      std::vector<Status> replaced;
      for (size_t j = i; j-- > 0;) {
        Status closed = s->nodes_[j]->close();
        if (closed.ok()) continue;
        replace_error(error, locate_error(std::move(closed), s->graph_->nodes()[j], std::nullopt), replaced);
      }
      s->nodes_.clear();
      s->closed_ = true;
      if (replaced_errors != nullptr) *replaced_errors = std::move(replaced);
      return error;
    }
  }
  s->observer_ = std::make_unique<Observer>(s->nodes_.size());
  s->engine_ = std::make_unique<PushEngine>(*s->graph_, s->nodes_, s->observer_.get());
  return s;
}

Session::~Session() {
  cancel();
  wait_closed();
}

void Session::notify() const {
  if (options_.notify) options_.notify();
}

bool Session::claim_locked() {
  if (busy_ || closed_) return false;
  const bool work = state_ != State::kRunning                                 // close the nodes
                    || (!input_.empty() && held_locked() <= options_.capacity)  // an item to process
                    || (input_.empty() && ended_);                             // the flush
  if (work) busy_ = true;
  return work;
}

void Session::schedule() {
  options_.pool->submit([self = shared_from_this()] { self->process_loop(); });
}

Session::PushResult Session::try_push(Value item) {
  bool run_here = false;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::kRunning || ended_) return PushResult::kClosed;
    if (held_locked() >= options_.capacity) return PushResult::kFull;
    input_.push_back(Pending{std::move(item), tick_clock::now()});
    items_in_.fetch_add(1, std::memory_order_relaxed);
    run_here = claim_locked();
  }
  if (run_here) {
    if (options_.process_on_push) process_loop();
    else schedule();
  }
  return PushResult::kAccepted;
}

Status Session::push(Value item) {
  for (;;) {
    PushResult r = try_push(item);
    if (r == PushResult::kAccepted) return Status::OK();
    std::unique_lock lock(mutex_);
    if (r == PushResult::kClosed || state_ != State::kRunning || ended_) {
      if (!error_.ok()) return error_;
      return Status(StatusCode::kCancelled, state_ == State::kCancelled ? "the session was cancelled"
                                                                        : "the session's input has ended");
    }
    changed_.wait(lock, [this] { return held_locked() < options_.capacity || state_ != State::kRunning || ended_; });
  }
}

void Session::end() {
  bool run_here = false;
  {
    std::lock_guard lock(mutex_);
    if (ended_ || state_ != State::kRunning) return;
    ended_ = true;
    run_here = claim_locked();
  }
  if (run_here) {
    if (options_.process_on_push) process_loop();
    else schedule();
  }
  changed_.notify_all();
}

void Session::cancel() {
  bool run_here = false;
  std::optional<std::deque<Pending>> dropped;  // dies after the lock (a Python item takes the GIL)
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::kRunning && failure_.ok() && !flushed_) {  // else its closing decides
      state_ = State::kCancelled;
      error_ = Status(StatusCode::kCancelled, "the session was cancelled");
    }
    dropped.emplace(std::move(input_));
    input_.clear();
    run_here = claim_locked();
  }
  if (run_here) process_loop();  // only closes the nodes
  changed_.notify_all();
  notify();
}

Session::PopResult Session::try_pop(Value* out) {
  PopResult result;
  bool resume = false, room_again = false;
  {
    std::lock_guard lock(mutex_);
    if (!outputs_.empty()) {
      room_again = held_locked() >= options_.capacity;  // a sender may be waiting for this
      *out = std::move(outputs_.front());
      outputs_.pop_front();
      result = PopResult::kItem;
      resume = claim_locked();  // room again: the queue may go on
    } else if (state_ == State::kFailed || state_ == State::kCancelled) {
      result = PopResult::kError;
    } else if (state_ == State::kEnded && closed_) {
      result = PopResult::kEnd;
    } else {
      result = PopResult::kEmpty;
    }
  }
  if (resume) schedule();
  if (result == PopResult::kItem) changed_.notify_all();  // a blocked push may go on
  if (room_again) notify();
  return result;
}

Session::PopResult Session::pop(Value* out, std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    PopResult r = try_pop(out);
    if (r != PopResult::kEmpty) return r;
    std::unique_lock lock(mutex_);
    const bool woke = changed_.wait_until(lock, deadline, [this] {
      return !outputs_.empty() || state_ == State::kFailed || state_ == State::kCancelled ||
             (state_ == State::kEnded && closed_);
    });
    if (!woke) return PopResult::kEmpty;
  }
}

Status Session::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

std::vector<Status> Session::replaced_errors() const {
  std::lock_guard lock(mutex_);
  return replaced_;
}

void Session::wait_closed() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return closed_; });
}

bool Session::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

// The outcome is decided here, once every node is closed, as run() decides it: a close failure
// replaces the end or the node's failure (as a `finally` that raises does), but not a cancel.
void Session::close_nodes() {
  // No more processing: the engine goes now, with its copy of a failure, so that the session's
  // statuses are the only ones holding an error (the binding reports the Python exceptions in them
  // to the garbage collector).
  engine_.reset();
  std::vector<Status> close_failures;  // in the order they happened; dropped after the lock
  for (size_t i = nodes_.size(); i-- > 0;) {
    Status s = nodes_[i]->close();
    if (!s.ok()) close_failures.push_back(locate_error(std::move(s), graph_->nodes()[i], std::nullopt));
  }
  std::optional<std::deque<Pending>> dropped;  // pushed while closing; dies after the lock
  std::lock_guard lock(mutex_);
  dropped.emplace(std::move(input_));
  input_.clear();
  if (state_ == State::kRunning) {  // ended and flushed, or a node failed
    Status error = std::move(failure_);
    for (Status& f : close_failures) replace_error(error, std::move(f), replaced_);
    state_ = error.ok() ? State::kEnded : State::kFailed;
    error_ = std::move(error);
  }
  closed_ = true;
}

// The session is over (ended and flushed, failed or cancelled): close the nodes, let go of busy_,
// wake whoever waits.
void Session::finish() {
  close_nodes();
  {
    std::lock_guard lock(mutex_);
    busy_ = false;
  }
  changed_.notify_all();
  notify();
}

void Session::process_loop() {
  std::vector<Value> produced;
  for (;;) {
    Pending next;
    std::optional<std::deque<Pending>> dropped;  // after a failure; dies after the lock
    bool flush = false, stop = false;
    {
      std::lock_guard lock(mutex_);
      if (state_ != State::kRunning) {
        stop = true;  // cancelled: close
      } else if (!input_.empty() && held_locked() <= options_.capacity) {
        // The item still counts while it is processed, and none is taken while the session holds
        // more than capacity: what it holds stays within capacity plus one item's outputs.
        next = std::move(input_.front());
        input_.pop_front();
        in_flight_ = 1;
      } else if (input_.empty() && ended_) {
        flush = true;
      } else {
        busy_ = false;  // nothing this thread may do now: a push or a pop resumes
        break;
      }
    }
    if (stop) {
      finish();
      break;
    }
    produced.clear();
    Status s = flush ? engine_->flush_all(produced) : engine_->push_item(std::move(next.item), produced);
    const bool failed = !s.ok();
    if (!flush && !produced.empty()) {
      const uint64_t now = tick_clock::now();
      const uint64_t ticks = now > next.pushed ? now - next.pushed : 0;
      for (size_t k = 0; k < produced.size(); ++k) latency_ticks_.record(ticks);
    }
    items_out_.fetch_add(produced.size(), std::memory_order_relaxed);
    if (options_.on_output) {
      for (Value& v : produced) options_.on_output(std::move(v));
    }
    {
      std::lock_guard lock(mutex_);
      in_flight_ = 0;
      if (!options_.on_output) {
        for (Value& v : produced) outputs_.push_back(std::move(v));
      }
      if (failed) {
        if (state_ == State::kRunning) failure_ = std::move(s);  // reported once the nodes are closed
        dropped.emplace(std::move(input_));
        input_.clear();
      } else if (flush) {
        flushed_ = true;
      }
    }
    if (flush || failed) {
      if (!produced.empty()) {  // the outputs before a failure go now, not after the close
        changed_.notify_all();
        notify();
      }
      finish();
      break;
    }
    changed_.notify_all();
    notify();
  }
}

SessionMetrics Session::metrics() const {
  SessionMetrics m;
  {
    std::lock_guard lock(mutex_);
    switch (state_) {
      case State::kRunning: m.state = "running"; break;
      case State::kEnded: m.state = "ended"; break;
      case State::kFailed: m.state = "failed"; break;
      case State::kCancelled: m.state = "cancelled"; break;
    }
    m.queued = input_.size() + in_flight_;
    m.pending_outputs = outputs_.size();
  }
  m.items_in = items_in_.load(std::memory_order_relaxed);
  m.items_out = items_out_.load(std::memory_order_relaxed);
  m.latency_ns_p50 = tick_clock::to_ns(latency_ticks_.quantile(0.50));
  m.latency_ns_p99 = tick_clock::to_ns(latency_ticks_.quantile(0.99));
  m.latency_ns_p999 = tick_clock::to_ns(latency_ticks_.quantile(0.999));
  m.latency_count = latency_ticks_.count();
  for (size_t i = 0; i < graph_->nodes().size(); ++i) {
    SessionMetrics::NodeStats n;
    n.id = graph_->nodes()[i].id;
    n.node_type = graph_->nodes()[i].type_name;
    if (observer_) {
      const Observer::Stats& s = observer_->stats_[i];
      n.items_in = s.items_in.load(std::memory_order_relaxed);
      n.items_out = s.items_out.load(std::memory_order_relaxed);
      n.errors = s.errors.load(std::memory_order_relaxed);
      n.process_ns_p50 = tick_clock::to_ns(s.process_ticks.quantile(0.50));
      n.process_ns_p99 = tick_clock::to_ns(s.process_ticks.quantile(0.99));
    }
    m.nodes.push_back(std::move(n));
  }
  return m;
}

std::string SessionMetrics::to_json() const {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  nlohmann::ordered_json j;
  j["state"] = state;
  j["items_in"] = items_in;
  j["items_out"] = items_out;
  j["queued"] = queued;
  j["pending_outputs"] = pending_outputs;
  j["latency_us"] = {{"p50", us(latency_ns_p50)}, {"p99", us(latency_ns_p99)}, {"p999", us(latency_ns_p999)},
                     {"count", latency_count}};
  j["nodes"] = nlohmann::ordered_json::array();
  for (const NodeStats& n : nodes) {
    j["nodes"].push_back({{"id", n.id}, {"node_type", n.node_type}, {"items_in", n.items_in},
                          {"items_out", n.items_out}, {"errors", n.errors},
                          {"process_us", {{"p50", us(n.process_ns_p50)}, {"p99", us(n.process_ns_p99)}}}});
  }
  return j.dump();
}

}  // namespace remotemedia
