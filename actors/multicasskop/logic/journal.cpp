#include "actors/multicasskop/logic/journal.h"

#include <algorithm>

#include <stdexcept>

#include <fmt/format.h>

#include "actors/multicasskop/logic/cache_trim.h"
#include "k8s/base/overloaded.h"

namespace mc {
namespace js = k8s::json;

namespace {

js::Value str(std::string_view s, js::Allocator& a) {
  return js::string_value(s, a);
}

js::Value key_json(const mc_key& k, js::Allocator& a) {
  js::Value v(rapidjson::kObjectType);
  v.AddMember("namespace", str(k.ns, a), a);
  v.AddMember("name", str(k.name, a), a);
  return v;
}

mc_key key_from(const js::Value& v) {
  return {std::string(js::get_string(v, "namespace")), std::string(js::get_string(v, "name"))};
}

object_ptr object_from(const js::Value& v) {
  auto d = std::make_shared<js::Document>();
  d->CopyFrom(v, d->GetAllocator());
  return d;
}

std::string object_label(const object_ptr& o) {
  if (!o) return "";
  return fmt::format("{}/{}@{}", js::get_string(*o, {"metadata", "namespace"}),
                     js::get_string(*o, {"metadata", "name"}),
                     js::get_string(*o, {"metadata", "resourceVersion"}));
}

}  // namespace

std::string encode_event(const event& e) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("seq", js::Value(static_cast<uint64_t>(e.seq)), a);
  d.AddMember("at", js::Value(static_cast<int64_t>(e.at_ms)), a);
  d.AddMember("type", str(type_name(e.body), a), a);
  if (e.snapshot) d.AddMember("snapshot", true, a);
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, clusters_configured>) {
          js::Value list(rapidjson::kArrayType);
          for (const auto& c : b.clusters) list.PushBack(str(c, a), a);
          d.AddMember("clusters", list, a);
        } else if constexpr (std::is_same_v<T, cluster_health>) {
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("reachable", b.reachable, a);
          d.AddMember("synced", b.synced, a);
          d.AddMember("error", str(b.error, a), a);
          if (b.denied) d.AddMember("denied", true, a);
        } else if constexpr (std::is_same_v<T, multicasskop_seen>) {
          d.AddMember("object", js::Value(*b.object, a), a);
        } else if constexpr (std::is_same_v<T, multicasskop_gone>) {
          d.AddMember("key", key_json(b.key, a), a);
        } else if constexpr (std::is_same_v<T, cassandracluster_seen>) {
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("object", js::Value(*b.object, a), a);
        } else if constexpr (std::is_same_v<T, cassandracluster_gone>) {
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("namespace", str(b.ns, a), a);
          d.AddMember("name", str(b.name, a), a);
        } else if constexpr (std::is_same_v<T, write_done>) {
          d.AddMember("command", js::Value(static_cast<uint64_t>(b.command_id)), a);
          d.AddMember("ok", b.ok, a);
          if (!b.ok) {
            d.AddMember("errorKind", str(k8s::to_string(b.error.kind), a), a);
            d.AddMember("httpCode", b.error.http_code, a);
            d.AddMember("reason", str(b.error.reason, a), a);
            d.AddMember("message", str(b.error.message, a), a);
            d.AddMember("retryAfter", b.error.retry_after_seconds, a);
          }
          if (b.object) d.AddMember("object", js::Value(*b.object, a), a);
        } else if constexpr (std::is_same_v<T, timer_fired>) {
          d.AddMember("key", key_json(b.key, a), a);
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("token", js::Value(static_cast<uint64_t>(b.token)), a);
        } else if constexpr (std::is_same_v<T, command_issued>) {
          d.AddMember("kind", str(b.kind, a), a);
          d.AddMember("id", js::Value(static_cast<uint64_t>(b.id)), a);
          d.AddMember("key", key_json(b.key, a), a);
        } else {
          static_assert(k8s::unhandled_alternative<T>, "a type without a branch");
        }
      },
      e.body);
  return js::to_string(d);
}

event decode_event(std::string_view line) {
  js::Document d;
  try {
    d = js::parse(line);
  } catch (const js::parse_error& e) {
    throw std::runtime_error(std::string("not JSON: ") + e.what());
  }
  if (!d.IsObject()) throw std::runtime_error("not a JSON object");
  event e;
  const js::Value* seq = js::find(d, "seq");
  const js::Value* at = js::find(d, "at");
  if (!seq || !seq->IsUint64() || !at || !at->IsInt64())
    throw std::runtime_error("missing seq or at");
  e.seq = seq->GetUint64();
  e.at_ms = at->GetInt64();
  e.snapshot = js::get_bool(d, {"snapshot"}, false);
  const std::string type(js::get_string(d, "type"));
  auto need_object = [&]() -> object_ptr {
    const js::Value* o = js::find(d, "object");
    if (!o || !o->IsObject()) throw std::runtime_error(type + " without object");
    return object_from(*o);
  };
  if (type == "clusters_configured") {
    clusters_configured b;
    if (const js::Value* l = js::find(d, "clusters"); l && l->IsArray())
      for (const auto& c : l->GetArray()) b.clusters.emplace_back(js::view(c));
    e.body = b;
  } else if (type == "cluster_health") {
    e.body =
        cluster_health{std::string(js::get_string(d, "cluster")),
                       js::get_bool(d, {"reachable"}, false), js::get_bool(d, {"synced"}, false),
                       std::string(js::get_string(d, "error")), js::get_bool(d, {"denied"}, false)};
  } else if (type == "multicasskop_seen") {
    e.body = multicasskop_seen{need_object()};
  } else if (type == "multicasskop_gone") {
    const js::Value* k = js::find(d, "key");
    if (!k) throw std::runtime_error("multicasskop_gone without key");
    e.body = multicasskop_gone{key_from(*k)};
  } else if (type == "cassandracluster_seen") {
    e.body = cassandracluster_seen{std::string(js::get_string(d, "cluster")), need_object()};
  } else if (type == "cassandracluster_gone") {
    e.body = cassandracluster_gone{std::string(js::get_string(d, "cluster")),
                                   std::string(js::get_string(d, "namespace")),
                                   std::string(js::get_string(d, "name"))};
  } else if (type == "write_done") {
    write_done w;
    const js::Value* c = js::find(d, "command");
    if (!c || !c->IsUint64()) throw std::runtime_error("write_done without command");
    w.command_id = c->GetUint64();
    w.ok = js::get_bool(d, {"ok"}, false);
    if (!w.ok) {
      const std::string kind(js::get_string(d, "errorKind"));
      w.error.kind = k8s::error_kind::other;
      for (int k = 0; k <= static_cast<int>(k8s::error_kind::other); ++k)
        if (kind == k8s::to_string(static_cast<k8s::error_kind>(k)))
          w.error.kind = static_cast<k8s::error_kind>(k);
      w.error.http_code = static_cast<int>(js::get_int(d, {"httpCode"}, 0));
      w.error.reason = js::get_string(d, "reason");
      w.error.message = js::get_string(d, "message");
      w.error.retry_after_seconds = static_cast<int>(js::get_int(d, {"retryAfter"}, 0));
    }
    if (js::find(d, "object")) w.object = need_object();
    e.body = std::move(w);
  } else if (type == "timer_fired") {
    const js::Value* k = js::find(d, "key");
    const js::Value* t = js::find(d, "token");
    if (!k || !t || !t->IsUint64()) throw std::runtime_error("timer_fired without key or token");
    e.body = timer_fired{key_from(*k), std::string(js::get_string(d, "cluster")), t->GetUint64()};
  } else if (type == "command_issued") {
    const js::Value* k = js::find(d, "key");
    const js::Value* id = js::find(d, "id");
    const std::string kind(js::get_string(d, "kind"));
    if (!k || !id || !id->IsUint64() || kind.empty())
      throw std::runtime_error("command_issued without kind, id or key");
    e.body = command_issued{kind, id->GetUint64(), key_from(*k)};
  } else {
    throw std::runtime_error("unknown event type \"" + type + "\"");
  }
  return e;
}

std::string summarize_event(const event& e) {
  std::string detail = std::visit(
      [](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, clusters_configured>) {
          std::string l;
          for (const auto& c : b.clusters) l += (l.empty() ? "" : ",") + c;
          return fmt::format(R"("clusters":"{}")", l);
        } else if constexpr (std::is_same_v<T, cluster_health>) {
          return fmt::format(R"("cluster":"{}","reachable":{},"synced":{})", b.cluster, b.reachable,
                             b.synced);
        } else if constexpr (std::is_same_v<T, multicasskop_seen>) {
          return fmt::format(R"("object":"{}","generation":{})", object_label(b.object),
                             js::get_int(*b.object, {"metadata", "generation"}, 0));
        } else if constexpr (std::is_same_v<T, multicasskop_gone>) {
          return fmt::format(R"("object":"{}")", b.key.str());
        } else if constexpr (std::is_same_v<T, cassandracluster_seen>) {
          // Fields of ours CassKop holds other values of (a refused change), when there are.
          const auto changed = fields_changed_since_our_write(*b.object);
          return fmt::format(
              R"("cluster":"{}","object":"{}","phase":"{}","action":"{}","status":"{}"{})",
              b.cluster, object_label(b.object), js::get_string(*b.object, {"status", "phase"}),
              js::get_string(*b.object, {"status", "lastClusterAction"}),
              js::get_string(*b.object, {"status", "lastClusterActionStatus"}),
              changed.empty() ? "" : fmt::format(R"(,"changedSinceOurWrite":{})", changed.size()));
        } else if constexpr (std::is_same_v<T, cassandracluster_gone>) {
          return fmt::format(R"("cluster":"{}","object":"{}/{}")", b.cluster, b.ns, b.name);
        } else if constexpr (std::is_same_v<T, write_done>) {
          return fmt::format(
              R"("command":{},"ok":{}{})", b.command_id, b.ok,
              b.ok ? "" : fmt::format(R"(,"error":"{}")", k8s::to_string(b.error.kind)));
        } else if constexpr (std::is_same_v<T, timer_fired>) {
          return fmt::format(R"("cluster":"{}","token":{})", b.cluster, b.token);
        } else if constexpr (std::is_same_v<T, command_issued>) {
          return fmt::format(R"("kind":"{}","id":{},"object":"{}")", b.kind, b.id, b.key.str());
        } else {
          static_assert(k8s::unhandled_alternative<T>, "a type without a branch");
        }
      },
      e.body);
  return fmt::format(R"({{"seq":{},"at":{},"type":"{}",{}}})", e.seq, e.at_ms, type_name(e.body),
                     detail);
}

std::string summarize_command(const command& c) {
  return std::visit(
      [](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        js::Document d(rapidjson::kObjectType);
        auto& a = d.GetAllocator();
        if constexpr (std::is_same_v<T, create_cassandracluster>) {
          d.AddMember("command", "create", a);
          d.AddMember("id", js::Value(static_cast<uint64_t>(b.id)), a);
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("object", str(object_label(b.object), a), a);
        } else if constexpr (std::is_same_v<T, patch_cassandracluster>) {
          d.AddMember("command", str(b.status ? "patch-status" : "patch", a), a);
          d.AddMember("id", js::Value(static_cast<uint64_t>(b.id)), a);
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("object", str(b.ns + "/" + b.name, a), a);
          d.AddMember("patch", str(b.merge_patch, a), a);
        } else if constexpr (std::is_same_v<T, delete_cassandracluster>) {
          d.AddMember("command", "delete", a);
          d.AddMember("id", js::Value(static_cast<uint64_t>(b.id)), a);
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("object", str(b.ns + "/" + b.name, a), a);
        } else if constexpr (std::is_same_v<T, patch_multicasskop>) {
          d.AddMember("command", str(b.status ? "multicasskop-status" : "multicasskop-metadata", a),
                      a);
          d.AddMember("id", js::Value(static_cast<uint64_t>(b.id)), a);
          d.AddMember("object", str(b.key.str(), a), a);
          d.AddMember("patch", str(b.merge_patch, a), a);
        } else if constexpr (std::is_same_v<T, record_event>) {
          d.AddMember("command", "event", a);
          d.AddMember("object", str(b.key.str(), a), a);
          d.AddMember("type", str(b.type, a), a);
          d.AddMember("reason", str(b.reason, a), a);
          d.AddMember("message", str(b.message, a), a);
        } else if constexpr (std::is_same_v<T, start_timer>) {
          d.AddMember("command", "timer", a);
          d.AddMember("object", str(b.key.str(), a), a);
          d.AddMember("cluster", str(b.cluster, a), a);
          d.AddMember("token", js::Value(static_cast<uint64_t>(b.token)), a);
          d.AddMember("delayMs", js::Value(static_cast<int64_t>(b.delay_ms)), a);
        } else {
          static_assert(k8s::unhandled_alternative<T>, "a type without a branch");
        }
        return js::to_string(d);
      },
      c);
}

void journal::record(const event& e, const std::vector<mc_key>& concerned) {
  if (concerned.empty() || limit_ == 0) return;
  const std::string summary = summarize_event(e);
  for (const auto& k : concerned) {
    auto& r = recent_[k];
    ++r.lines;
    ++size_;
    size_t drop = 0;  // the oldest summaries beyond the limit
    for (; r.lines > limit_; --r.lines, --size_) drop = r.text.find('\n', drop) + 1;
    const size_t need = r.text.size() - drop + summary.size() + 1;
    if (need > r.text.capacity()) {
      // Grown by a little, not doubled as std::string grows.
      std::string grown;
      grown.reserve(need + need / 8);
      grown.append(r.text, drop, std::string::npos);
      r.text.swap(grown);
    } else {
      r.text.erase(0, drop);
    }
    r.text.append(summary).push_back('\n');
  }
}

void journal::forget(const mc_key& key) {
  auto it = recent_.find(key);
  if (it == recent_.end()) return;
  size_ -= it->second.lines;
  recent_.erase(it);
}

std::vector<std::string_view> journal::recent(const mc_key& key) const {
  std::vector<std::string_view> out;
  auto it = recent_.find(key);
  if (it == recent_.end()) return out;
  std::string_view text = it->second.text;
  for (size_t at = 0, end; (end = text.find('\n', at)) != std::string_view::npos; at = end + 1)
    out.push_back(text.substr(at, end - at));
  return out;
}

size_t journal::memory_bytes() const {
  size_t bytes = 0;
  for (const auto& [k, r] : recent_)
    bytes += sizeof(std::pair<const mc_key, summaries>) + 4 * sizeof(void*) + r.text.capacity();
  return bytes;
}

}  // namespace mc
