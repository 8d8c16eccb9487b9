// The watch cache's waitUntilFreshAndBlock (apiserver pkg/storage/cacher/watch_cache.go, v1.32):
// a read that asks for a resourceVersion the cluster has not reached waits for it, up to
// freshness_wait_ms, without blocking the server's threads.
#pragma once

#include <cstdint>
#include <functional>

#include <boost/asio/io_context.hpp>

#include "tools/kubesim/cluster_state.h"

namespace kubesim {

// Calls `then(true)` once the cluster's resourceVersion is at least `rv` (at once when it is),
// or `then(false)` when freshness_wait_ms pass first.
void wait_until_fresh(boost::asio::io_context& io, const cluster_state& state, uint64_t rv,
                      std::function<void(bool fresh)> then);

}  // namespace kubesim
