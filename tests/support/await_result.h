// Waits for the result an asynchronous k8s::client call hands to its callback.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>

#include "k8s/api/client.h"

namespace testsupport {

// Runs `start` with a callback and waits for its result; fails the test after `timeout`.
template <class T, class F>
k8s::result<T> await(F&& start, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto p = std::make_shared<std::promise<k8s::result<T>>>();
  auto f = p->get_future();
  start([p](k8s::result<T> r) { p->set_value(std::move(r)); });
  REQUIRE_MESSAGE(f.wait_for(timeout) == std::future_status::ready, "no callback in time");
  return f.get();
}

}  // namespace testsupport
