#include "core/worker_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

namespace houston {
namespace {

// A pool whose one thread is held by a task until Release().
class HeldPool {
 public:
  explicit HeldPool(size_t capacity) : pool_({.threads = 1, .capacity = capacity, .name = "t"}) {
    EXPECT_TRUE(pool_.Submit(
        [this] {
          started_.set_value();
          gate_.wait();
        },
        [] {}));
    started_.get_future().wait();
  }
  void Release() { release_.set_value(); }
  WorkerPool& pool() { return pool_; }

 private:
  std::promise<void> release_;
  std::shared_future<void> gate_ = release_.get_future().share();
  std::promise<void> started_;
  WorkerPool pool_;  // last: its thread stops before the gate goes
};

TEST(WorkerPoolTest, AFullQueueRefuses) {
  HeldPool held(1);
  EXPECT_TRUE(held.pool().Submit([] {}, [] {}));   // queued
  EXPECT_FALSE(held.pool().Submit([] {}, [] {}));  // the queue is full
  EXPECT_EQ(held.pool().pending(), 2u);
  held.Release();
}

TEST(WorkerPoolTest, RunsTasksOnItsOwnThreads) {
  WorkerPool pool({.threads = 2, .capacity = 8, .name = "t"});
  std::promise<std::thread::id> ran;
  ASSERT_TRUE(pool.Submit([&ran] { ran.set_value(std::this_thread::get_id()); }, [] {}));
  EXPECT_NE(ran.get_future().get(), std::this_thread::get_id());
}

TEST(WorkerPoolTest, NiceLowersItsThreadsPriorityOnly) {
  int before = getpriority(PRIO_PROCESS, gettid());
  WorkerPool pool({.threads = 1, .capacity = 8, .name = "t", .nice = 7});
  std::promise<int> seen;
  ASSERT_TRUE(pool.Submit([&seen] { seen.set_value(getpriority(PRIO_PROCESS, gettid())); }, [] {}));
  EXPECT_EQ(seen.get_future().get(), std::min(19, before + 7));
  EXPECT_EQ(getpriority(PRIO_PROCESS, gettid()), before);  // not the process's other threads
}

// Stop refuses new tasks at once, lets the running one finish and cancels the queued one
// instead of running it; a second Stop (and the destructor) does nothing more.
TEST(WorkerPoolTest, StopCancelsWhatWaitsAndFinishesWhatRuns) {
  HeldPool held(4);
  std::atomic<int> ran{0}, cancelled{0};
  ASSERT_TRUE(held.pool().Submit([&ran] { ++ran; }, [&cancelled] { ++cancelled; }));
  EXPECT_FALSE(held.pool().stopped());
  std::thread stopper([&held] { held.pool().Stop(); });
  // Stop takes the queue it cancels in the step that marks it stopped.
  while (!held.pool().stopped()) std::this_thread::yield();
  held.Release();
  stopper.join();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(cancelled.load(), 1);
  held.pool().Stop();
  EXPECT_EQ(cancelled.load(), 1);
  EXPECT_FALSE(held.pool().Submit([] {}, [] {}));
}

}  // namespace
}  // namespace houston
