#include "core/worker_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "core/thread_name.h"

namespace houston {

namespace {

// Adds `nice` to the calling thread's nice value (on Linux it is per thread), at most 19.
// Lowering a priority needs no privilege; should it fail all the same, the thread keeps the
// process's priority, which is only slower for the others.
void Deprioritize(int nice) {
  errno = 0;
  int now = getpriority(PRIO_PROCESS, gettid());
  if (now == -1 && errno != 0) return;
  (void)setpriority(PRIO_PROCESS, gettid(), std::min(19, now + nice));
}

}  // namespace

WorkerPool::WorkerPool(WorkerPoolOptions options) : options_(std::move(options)) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      NameThisThread(options_.name);
      if (options_.nice > 0) Deprioritize(options_.nice);
      Loop();
    });
  }
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Stop() {
  std::lock_guard stop_lock(stop_mu_);
  std::deque<std::pair<Task, Task>> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (auto& [run, cancel] : left) {
    if (cancel) cancel();
  }
}

bool WorkerPool::Submit(Task run, Task cancel) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.capacity) return false;
    queue_.emplace_back(std::move(run), std::move(cancel));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::SubmitOrRefuse(Task run, std::string_view what,
                                std::move_only_function<void(Status)> refused) {
  static constexpr std::string_view kStopping = "houston is shutting down; retry later";
  auto shared = std::make_shared<std::move_only_function<void(Status)>>(std::move(refused));
  if (Submit(std::move(run), [shared] { (*shared)(Unavailable(std::string(kStopping))); })) return;
  (*shared)(Unavailable(stopped() ? std::string(kStopping)
                                  : fmt::format("too many {} are waiting; retry later", what)));
}

size_t WorkerPool::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + running_;
}

bool WorkerPool::stopped() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void WorkerPool::Loop() {
  for (;;) {
    Task run;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      run = std::move(queue_.front().first);
      queue_.pop_front();
      ++running_;
    }
    run();
    std::lock_guard lock(mu_);
    --running_;
  }
}

}  // namespace houston
