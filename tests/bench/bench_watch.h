// Watch streams for the benchmarks: kubesim's chunked watch responses read by one I/O thread,
// every event line timestamped on arrival (before it is parsed), so that figures measured from
// watch events do not include the benchmark's own parsing or scheduling.
#pragma once

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "tests/bench/bench_http.h"

namespace bench {

inline reply must(reply r, const std::string& what, std::initializer_list<int> ok = {200, 201}) {
  if (std::find(ok.begin(), ok.end(), r.status) == ok.end())
    throw std::runtime_error(fmt::format("{}: HTTP {}: {}", what, r.status, r.body.substr(0, 400)));
  return r;
}

// A chunked HTTP/1.1 response body split into lines, fed with raw bytes as they arrive.
class chunked_lines {
 public:
  template <class F>
  void feed(const char* p, size_t n, F&& on_line) {
    raw_.append(p, n);
    size_t pos = 0;
    if (!headers_done_) {
      size_t end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      std::string head = raw_.substr(0, end);
      status_ = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
      std::string lower = head;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      chunked_ = lower.find("transfer-encoding: chunked") != std::string::npos;
      headers_done_ = true;
      pos = end + 4;
    }
    std::string payload;
    while (pos < raw_.size() && !ended_) {
      if (!chunked_) {
        payload.append(raw_, pos, std::string::npos);
        pos = raw_.size();
      } else if (state_ == size) {
        size_t crlf = raw_.find("\r\n", pos);
        if (crlf == std::string::npos) break;
        remaining_ = std::strtoul(raw_.c_str() + pos, nullptr, 16);
        pos = crlf + 2;
        if (remaining_ == 0)
          ended_ = true;
        else
          state_ = data;
      } else if (state_ == data) {
        size_t take = std::min(remaining_, raw_.size() - pos);
        payload.append(raw_, pos, take);
        pos += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = crlf;
      } else {
        if (raw_.size() - pos < 2) break;
        pos += 2;
        state_ = size;
      }
    }
    raw_.erase(0, pos);
    line_.append(payload);
    size_t start = 0, nl;
    while ((nl = line_.find('\n', start)) != std::string::npos) {
      if (nl > start) on_line(std::string_view(line_).substr(start, nl - start));
      start = nl + 1;
    }
    line_.erase(0, start);
  }
  int status() const { return status_; }
  bool ended() const { return ended_; }

 private:
  std::string raw_, line_;
  bool headers_done_ = false, chunked_ = false, ended_ = false;
  int status_ = 0;
  enum { size, data, crlf } state_ = size;
  size_t remaining_ = 0;
};

struct watch_event {
  time_point at;
  std::string type;
  std::shared_ptr<k8s::json::Document> object;
  std::string name() const {
    return std::string(k8s::json::get_string(*object, {"metadata", "name"}));
  }
};

// Watch streams of several clusters read by one I/O thread. Every event line is timestamped on
// arrival, before it is parsed; `keep` chooses the lines worth parsing and queueing.
class watch_hub {
 public:
  using filter = std::function<bool(std::string_view line)>;
  watch_hub() : ctx_(ssl::context::tls_client), guard_(net::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~watch_hub() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  // Opens a watch on `path` (with ?watch=true&resourceVersion=...) and returns its index.
  size_t open(const target& t, const std::string& path, filter keep = nullptr) {
    auto w = std::make_unique<stream>();
    w->keep = std::move(keep);
    if (t.tls && cas_.insert(t.ca).second) ctx_.add_certificate_authority(net::buffer(t.ca));
    w->conn.emplace(io_, ctx_, t);
    w->conn->send_get(path);
    size_t index;
    {
      std::lock_guard lock(mutex_);
      index = streams_.size();
      streams_.push_back(std::move(w));
      queues_.emplace_back();
    }
    net::post(io_, [this, index] { read(index); });
    return index;
  }
  // The next queued event of stream `index` satisfying `pred`; earlier ones that do not are
  // dropped. nullopt on timeout.
  template <class P>
  std::optional<watch_event> wait(size_t index, P&& pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      auto& q = queues_[index];
      while (!q.empty()) {
        watch_event e = std::move(q.front());
        q.pop_front();
        if (pred(e)) return e;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && queues_[index].empty())
        return std::nullopt;
    }
  }
  bool ended(size_t index) {
    std::lock_guard lock(mutex_);
    return streams_[index]->done;
  }
  size_t lines(size_t index) {
    std::lock_guard lock(mutex_);
    return streams_[index]->line_count;
  }

 private:
  struct stream {
    std::optional<client_stream> conn;
    std::array<char, 65536> buf{};
    chunked_lines decoder;
    filter keep;
    bool done = false;
    size_t line_count = 0;
  };

  void read(size_t index) {
    stream* s = streams_[index].get();
    auto handler = [this, index, s](beast::error_code ec, size_t n) {
      time_point at = clock_type::now();
      if (!ec) {
        s->decoder.feed(s->buf.data(), n, [&](std::string_view line) {
          ++s->line_count;
          if (s->keep && !s->keep(line)) return;
          watch_event e{at, "", nullptr};
          try {
            auto d = std::make_shared<k8s::json::Document>(k8s::json::parse(line));
            e.type = std::string(k8s::json::get_string(*d, "type"));
            if (auto* o = k8s::json::find(*d, "object")) {
              auto obj = std::make_shared<k8s::json::Document>();
              obj->CopyFrom(*o, obj->GetAllocator());
              e.object = std::move(obj);
            }
          } catch (const std::exception&) {
            return;
          }
          if (!e.object) return;
          std::lock_guard lock(mutex_);
          queues_[index].push_back(std::move(e));
          cv_.notify_all();
        });
      }
      if (ec || s->decoder.ended()) {
        std::lock_guard lock(mutex_);
        s->done = true;
        cv_.notify_all();
        return;
      }
      read(index);
    };
    s->conn->async_read_some(net::buffer(s->buf), handler);
  }

  net::io_context io_;
  ssl::context ctx_;
  std::set<std::string> cas_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<stream>> streams_;
  std::vector<std::deque<watch_event>> queues_;
};

}  // namespace bench
