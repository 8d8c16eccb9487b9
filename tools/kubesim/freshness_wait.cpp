#include "tools/kubesim/freshness_wait.h"

#include <chrono>
#include <memory>

#include <boost/asio/steady_timer.hpp>

#include "tools/kubesim/list_options.h"

namespace kubesim {

namespace {

// Polls the resourceVersion; writes are rare enough in tests that a short period costs nothing.
struct freshness_poll : std::enable_shared_from_this<freshness_poll> {
  freshness_poll(boost::asio::io_context& io, const cluster_state& state, uint64_t rv,
                 std::function<void(bool)> then)
      : timer(io),
        state(state),
        rv(rv),
        then(std::move(then)),
        deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(freshness_wait_ms)) {}

  void arm() {
    timer.expires_after(std::chrono::milliseconds(20));
    timer.async_wait([self = shared_from_this()](boost::system::error_code) {
      if (self->state.current_rv() >= self->rv) return self->then(true);
      if (std::chrono::steady_clock::now() >= self->deadline) return self->then(false);
      self->arm();
    });
  }

  boost::asio::steady_timer timer;
  const cluster_state& state;
  uint64_t rv;
  std::function<void(bool)> then;
  std::chrono::steady_clock::time_point deadline;
};

}  // namespace

void wait_until_fresh(boost::asio::io_context& io, const cluster_state& state, uint64_t rv,
                      std::function<void(bool fresh)> then) {
  if (state.current_rv() >= rv) return then(true);
  std::make_shared<freshness_poll>(io, state, rv, std::move(then))->arm();
}

}  // namespace kubesim
