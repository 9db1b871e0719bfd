#include "python/shutdown_gate.h"

#include <nanobind/nanobind.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "remotemedia/worker_pool.h"

namespace remotemedia::py {

namespace nb = nanobind;

namespace {

struct Gate {
  std::atomic<bool> closed{false};
  std::mutex mutex;
  std::condition_variable idle;
  int active = 0;
  std::vector<std::weak_ptr<Session>> sessions;
};

thread_local PyGILState_STATE t_worker_gil;
thread_local PyThreadState* t_worker_state = nullptr;

Gate& gate() {
  static Gate* g = new Gate();  // never destroyed: threads may still look at it during exit
  return *g;
}

}  // namespace

RunTicket::RunTicket() {
  Gate& g = gate();
  std::lock_guard lock(g.mutex);
  if (g.closed.load()) throw nb::builtin_exception(nb::exception_type::runtime_error,
                                                   "the interpreter is shutting down: no new native runs");
  ++g.active;
}

RunTicket::~RunTicket() {
  Gate& g = gate();
  std::lock_guard lock(g.mutex);
  if (--g.active == 0) g.idle.notify_all();
}

bool shutting_down() { return gate().closed.load(std::memory_order_relaxed); }

void register_session(std::weak_ptr<Session> session) {
  Gate& g = gate();
  std::lock_guard lock(g.mutex);
  std::erase_if(g.sessions, [](const std::weak_ptr<Session>& s) { return s.expired(); });
  g.sessions.push_back(std::move(session));
}

void install_worker_thread_hooks() {
  WorkerPool::set_shared_hooks(WorkerPool::ThreadHooks{
      [] {
        t_worker_gil = PyGILState_Ensure();
        t_worker_state = PyEval_SaveThread();  // keep the thread state, let go of the GIL
      },
      [] {
        if (t_worker_state == nullptr || !Py_IsInitialized()) return;
        PyEval_RestoreThread(t_worker_state);
        PyGILState_Release(t_worker_gil);
      },
  });
}

void close_gate(double timeout_seconds) {
  Gate& g = gate();
  nb::gil_scoped_release release;  // the runs in flight need the GIL to get back to Python
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::unique_lock lock(g.mutex);
    g.closed.store(true);
    g.idle.wait_for(lock, std::chrono::duration<double>(timeout_seconds), [&] { return g.active == 0; });
    for (const auto& weak : g.sessions) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  for (const auto& s : sessions) s->cancel();
  for (const auto& s : sessions) s->wait_closed();
  WorkerPool::shared().shutdown();  // workers release their thread states now, not after finalization
}

}  // namespace remotemedia::py
