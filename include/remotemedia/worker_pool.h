// WorkerPool: a fixed set of threads running submitted tasks in FIFO order. One shared pool serves
// every streaming session of the process.
//
// Threads start on the first submit. An embedding application may give hooks that run on each
// worker when it starts and before it stops (the Python binding attaches one thread state per
// worker there, GIL rule 3). shutdown() finishes the queued tasks and joins; later submits run on
// the caller.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace remotemedia {

class WorkerPool {
 public:
  struct ThreadHooks {
    std::function<void()> on_start;
    std::function<void()> on_stop;
  };

  explicit WorkerPool(size_t threads, ThreadHooks hooks = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // The process-wide pool, one thread per core (never destroyed: call shutdown() before exit if
  // its threads must be gone).
  static WorkerPool& shared();
  // Hooks for the shared pool's threads; call before its first submit.
  static void set_shared_hooks(ThreadHooks hooks);

  void submit(std::function<void()> task);
  void shutdown();
  size_t size() const { return size_; }

 private:
  void start_locked();
  void work();

  const size_t size_;
  ThreadHooks hooks_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool stopping_ = false;
};

}  // namespace remotemedia
