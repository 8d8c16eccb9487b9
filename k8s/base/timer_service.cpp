#include "k8s/base/timer_service.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <thread>

namespace k8s {

struct timer_service::impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread;
};

timer_service::timer_service() : impl_(std::make_shared<impl>()) {
  // The thread keeps the io_context alive until run() has returned: the service may be destroyed
  // on this very thread, inside a callback, and must not free what run() still uses.
  impl_->thread = std::thread([keep = impl_] { keep->io.run(); });
}

timer_service::~timer_service() {
  impl_->guard.reset();
  impl_->io.stop();
  if (!impl_->thread.joinable()) return;
  if (impl_->thread.get_id() == std::this_thread::get_id())
    impl_->thread.detach();  // joining ourselves would throw (and terminate in a destructor)
  else
    impl_->thread.join();
}

timer_service::cancel_flag timer_service::after(std::chrono::milliseconds delay,
                                                std::function<void()> fn) {
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto timer = std::make_shared<boost::asio::steady_timer>(impl_->io, delay);
  timer->async_wait([timer, cancelled, fn = std::move(fn)](boost::system::error_code ec) {
    if (!ec && !*cancelled) fn();
  });
  return cancelled;
}

}  // namespace k8s
