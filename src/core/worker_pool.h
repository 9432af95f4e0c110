// WorkerPool: a fixed number of threads that run tasks handed to them, so that slow work (a
// read that scans a year of data, a password hash) never runs on a thread that must stay quick,
// such as an HTTP I/O thread that also answers intake. The queue is bounded: when it is full,
// Submit refuses at once and the caller answers 503 with Retry-After.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace houston {

struct WorkerPoolOptions {
  int threads = 2;              // at least 1
  size_t capacity = 16;         // queued (not yet running) tasks at most
  std::string name = "worker";  // the threads' name (top, perf), at most 15 characters
  // Added to the threads' nice value (at most 19; 0: the process's priority). Above 0, they
  // yield most of the CPU to the process's other threads whenever those have work.
  int nice = 0;
};

// Thread-safe.
class WorkerPool {
 public:
  using Task = std::move_only_function<void()>;
  explicit WorkerPool(WorkerPoolOptions options = {});
  // Stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `run` for a pool thread. Returns false (and runs neither) when the queue is full or
  // the pool has stopped. `cancel` runs instead of `run` (on the thread that calls Stop) if the
  // pool stops before `run` started.
  bool Submit(Task run, Task cancel);
  // Queues `run`, or runs `refused` with why it never will: Unavailable "too many <what> are
  // waiting; retry later" at once when the queue is full, Unavailable "houston is shutting down;
  // retry later" at once when the pool has stopped, or at Stop for a task still queued. Exactly
  // one of the two runs.
  void SubmitOrRefuse(Task run, std::string_view what,
                      std::move_only_function<void(Status)> refused);
  // Refuses new tasks, waits for the running ones and cancels the queued ones. Idempotent.
  void Stop();
  // Queued and running tasks (for tests and metrics).
  size_t pending() const;
  // Whether Stop() has begun.
  bool stopped() const;

 private:
  void Loop();

  const WorkerPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Task, Task>> queue_;  // guarded by mu_
  size_t running_ = 0;                       // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;         // joined by the first Stop()
  std::mutex stop_mu_;                       // serializes Stop()
};

}  // namespace houston
