// A streamed response (a watch) goes out in chunks of at most 64 KiB of what is queued, one
// larger piece alone in its chunk, as an API server writes events: a client that reads a
// whole chunk before handing it on (cpprest) must never hold the whole backlog at once.
#include <doctest/doctest.h>

#include <boost/asio.hpp>

#include <string>
#include <thread>
#include <vector>

#include "k8s/http/http_server.h"

namespace {

namespace net = boost::asio;

// The sizes of the chunks of a chunked body, and the body.
struct chunked_body {
  std::vector<size_t> chunks;
  std::string body;
};

chunked_body read_chunked(const std::string& raw) {
  chunked_body out;
  size_t at = raw.find("\r\n\r\n");
  REQUIRE(at != std::string::npos);
  at += 4;
  for (;;) {
    size_t eol = raw.find("\r\n", at);
    REQUIRE(eol != std::string::npos);
    const size_t n = std::stoul(raw.substr(at, eol - at), nullptr, 16);
    at = eol + 2;
    if (n == 0) break;
    REQUIRE(at + n + 2 <= raw.size());
    out.chunks.push_back(n);
    out.body.append(raw, at, n);
    at += n + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("http stream: a backlog goes out in chunks of at most 64 KiB, a larger piece alone") {
  const std::string small(10000, 's'), large(100000, 'L');
  net::io_context io;
  k8s::http::listener l(io, {}, [&](std::shared_ptr<k8s::http::exchange> ex) {
    auto s = ex->start_stream(200, "application/json");
    // All queued before the first write goes out (the handler runs on the I/O thread).
    for (int i = 0; i < 100; ++i) s->write(small);
    s->write(large);
    for (int i = 0; i < 100; ++i) s->write(small);
    s->close();
  });
  l.open();
  std::thread t([&] {
    auto guard = net::make_work_guard(io);
    io.run();
  });

  std::string raw;
  {
    net::io_context cio;
    net::ip::tcp::socket sock(cio);
    sock.connect({net::ip::make_address("127.0.0.1"), l.port()});
    net::write(sock, net::buffer(std::string("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")));
    boost::system::error_code ec;
    char buf[65536];
    while (raw.find("\r\n0\r\n\r\n") == std::string::npos) {
      size_t n = sock.read_some(net::buffer(buf), ec);
      if (ec) break;
      raw.append(buf, n);
    }
  }
  l.close();
  io.stop();
  t.join();

  chunked_body b = read_chunked(raw);
  CHECK(b.body ==
        std::string(100 * small.size(), 's') + large + std::string(100 * small.size(), 's'));
  CHECK(b.chunks.size() >= 200 * small.size() / (64 * 1024));
  int larger = 0;
  for (size_t n : b.chunks) {
    if (n > 64 * 1024) {
      ++larger;
      CHECK(n == large.size());
    }
  }
  CHECK(larger == 1);
}
