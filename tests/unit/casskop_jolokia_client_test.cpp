// casskop's Jolokia client against a hand-written agent on <127.x>:8778 (not kubesim's
// simulator): the POST it sends, basic auth, and every transport failure classified within the
// call's limit (refused, a hanging agent times out instead of blocking).
#include <doctest/doctest.h>

#include <boost/asio.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "actors/casskop/jolokia_client.h"
#include "k8s/http/http_server.h"

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using casskop::jolokia::failure;

// A fake agent on a random loopback address, port 8778 (re-drawn when the bind fails).
struct fake_agent {
  net::io_context io;
  std::unique_ptr<k8s::http::listener> listener;
  std::thread thread;
  std::string ip;
  std::mutex m;
  k8s::http::request last;
  std::vector<std::shared_ptr<k8s::http::exchange>> held;  // a hanging agent keeps these

  explicit fake_agent(std::function<void(std::shared_ptr<k8s::http::exchange>)> answer) {
    std::mt19937 rnd(std::random_device{}());
    for (int attempt = 0; attempt < 20 && !listener; ++attempt) {
      ip = "127." + std::to_string(100 + rnd() % 100) + "." + std::to_string(rnd() % 250) + "." +
           std::to_string(1 + rnd() % 250);
      k8s::http::listener_options o;
      o.address = ip;
      o.port = casskop::jolokia::port;
      auto l = std::make_unique<k8s::http::listener>(
          io, o, [this, answer](std::shared_ptr<k8s::http::exchange> ex) {
            {
              std::lock_guard g(m);
              last = ex->req();
            }
            answer(ex);
          });
      try {
        l->open();
        listener = std::move(l);
      } catch (const std::exception&) {
      }
    }
    REQUIRE(listener);
    thread = std::thread([this] {
      auto guard = net::make_work_guard(io);
      io.run();
    });
  }
  ~fake_agent() {
    listener->close();
    io.stop();
    thread.join();
  }
};

casskop::jolokia::http_reply call(const std::string& ip, const casskop::jolokia::request& r,
                                  std::optional<casskop::jolokia::credentials> auth = {},
                                  std::chrono::milliseconds timeout = 10s) {
  casskop::jolokia_client_options o;
  o.timeout = timeout;
  casskop::jolokia_client client(o);
  std::promise<casskop::jolokia::http_reply> p;
  auto f = p.get_future();
  client.call(ip, r, auth, [&p](casskop::jolokia::http_reply reply) { p.set_value(reply); });
  REQUIRE(f.wait_for(timeout + 10s) == std::future_status::ready);
  return f.get();
}

}  // namespace

TEST_CASE("casskop jolokia client: POST /jolokia/ with the codec's body and basic auth") {
  fake_agent agent([](std::shared_ptr<k8s::http::exchange> ex) {
    ex->reply({200, "application/json", R"({"value":"NORMAL","status":200})", {}});
  });
  auto reply = call(agent.ip, casskop::jolokia::read_operation_mode(),
                    casskop::jolokia::credentials{"jolokia", "s3cr3t"});
  CHECK(reply.transport.ok());
  CHECK(reply.status == 200);
  CHECK(*casskop::jolokia::parse_operation_mode(reply).value == "NORMAL");
  std::lock_guard g(agent.m);
  CHECK(agent.last.method == "POST");
  CHECK(agent.last.target == "/jolokia/");
  CHECK(agent.last.header("Content-Type").find("application/json") == 0);
  CHECK(agent.last.header("Authorization") == "Basic am9sb2tpYTpzM2NyM3Q=");
  CHECK(agent.last.body == casskop::jolokia::read_operation_mode().body);
}

TEST_CASE("casskop jolokia client: without credentials no Authorization, and a 401 comes back") {
  fake_agent agent([](std::shared_ptr<k8s::http::exchange> ex) {
    ex->reply({401, "text/html", "Unauthorized", {}});
  });
  auto reply = call(agent.ip, casskop::jolokia::read_host_id_map());
  CHECK(reply.status == 401);
  CHECK(casskop::jolokia::parse_host_id_map(reply).err.kind == failure::unauthorized);
  std::lock_guard g(agent.m);
  CHECK(agent.last.header("Authorization").empty());
}

TEST_CASE("casskop jolokia client: nobody listening is refused") {
  std::string ip;
  {
    fake_agent agent([](std::shared_ptr<k8s::http::exchange> ex) { ex->reply({}); });
    ip = agent.ip;
  }
  auto reply = call(ip, casskop::jolokia::read_joining_nodes());
  CAPTURE(reply.transport.message);
  CHECK(reply.transport.kind == failure::refused);
}

TEST_CASE("casskop jolokia client: a hanging agent times out within the call's limit") {
  fake_agent* self = nullptr;
  fake_agent agent([&self](std::shared_ptr<k8s::http::exchange> ex) {
    std::lock_guard g(self->m);
    self->held.push_back(ex);  // never answered while the agent lives
  });
  self = &agent;
  const auto start = std::chrono::steady_clock::now();
  auto reply = call(agent.ip, casskop::jolokia::read_operation_mode(), {}, 1s);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(reply.transport.kind == failure::timeout);
  CHECK(took >= 900ms);
  CHECK(took < 5s);
}

TEST_CASE("casskop jolokia client: new limits apply to the calls sent after them (a reload)") {
  fake_agent* self = nullptr;
  fake_agent agent([&self](std::shared_ptr<k8s::http::exchange> ex) {
    std::lock_guard g(self->m);
    self->held.push_back(ex);
  });
  self = &agent;
  casskop::jolokia_client_options o;
  o.timeout = 30s;
  casskop::jolokia_client client(o);
  o.timeout = 1s;
  client.set_options(o);
  CHECK(client.options().timeout == 1s);
  std::promise<casskop::jolokia::http_reply> p;
  auto f = p.get_future();
  const auto start = std::chrono::steady_clock::now();
  client.call(agent.ip, casskop::jolokia::read_operation_mode(), {},
              [&p](casskop::jolokia::http_reply reply) { p.set_value(reply); });
  REQUIRE(f.wait_for(15s) == std::future_status::ready);
  CHECK(f.get().transport.kind == failure::timeout);
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // not the 30 s it was made with
}
