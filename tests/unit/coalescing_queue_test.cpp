#include <doctest/doctest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/runtime/logic/coalescing_queue.h"

TEST_CASE("coalescing queue: a busy consumer reads each object once, at its latest version") {
  runtime::coalescing_queue<std::string, std::string> q;
  CHECK(q.put("a", "a1"));   // was empty: wake the consumer
  CHECK(!q.put("b", "b1"));  // already woken
  CHECK(!q.put("a", "a2"));  // replaces a1, keeps a's place
  CHECK(!q.put("c", "c1"));
  CHECK(q.size() == 3);
  CHECK(q.replaced() == 1);
  CHECK(q.take_all() == std::vector<std::string>{"a2", "b1", "c1"});
  CHECK(q.size() == 0);
  CHECK(q.take_all().empty());
  CHECK(q.put("a", "a3"));  // empty again: wake again
}

TEST_CASE("coalescing queue: no change is lost and every non-empty queue has a wake-up") {
  // Producers put (key, value); a consumer drains once per wake-up, as the supervisor does.
  runtime::coalescing_queue<int, std::pair<int, int>> q;
  constexpr int producers = 4, per_producer = 20000, keys = 50;
  std::mutex m;
  std::condition_variable cv;
  int wakeups = 0;
  bool producing = true;
  std::map<int, int> latest;
  std::thread consumer([&] {
    int handled = 0;
    for (;;) {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return wakeups > handled || !producing; });
      if (wakeups == handled && !producing) return;
      ++handled;
      lock.unlock();
      for (const auto& [k, v] : q.take_all()) {
        auto [it, added] = latest.try_emplace(k, v);
        CHECK(v >= it->second);  // never an older version after a newer one
        it->second = v;
      }
    }
  });
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i)
        if (q.put(p * keys + i % keys, {p * keys + i % keys, i})) {
          std::lock_guard lock(m);
          ++wakeups;
          cv.notify_one();
        }
    });
  for (auto& t : threads) t.join();
  {
    std::lock_guard lock(m);
    producing = false;
    cv.notify_one();
  }
  consumer.join();
  // Every wake-up was handled: nothing is left waiting, and each key's last value arrived.
  CHECK(q.size() == 0);
  REQUIRE(latest.size() == producers * keys);
  for (const auto& [k, v] : latest) CHECK(v == per_producer - keys + k % keys);
}
