#include "tools/kuttl/cluster.h"

#include <future>

namespace kuttl {
namespace {

namespace js = k8s::json;

// Runs an asynchronous client call and waits for its callback.
template <class T, class F>
k8s::result<T> wait_for(F&& call) {
  auto p = std::make_shared<std::promise<k8s::result<T>>>();
  auto f = p->get_future();
  call([p](k8s::result<T> r) { p->set_value(std::move(r)); });
  return f.get();
}

k8s::client_options options() {
  k8s::client_options o;
  o.user_agent = "kuttl-runner";
  return o;
}

}  // namespace

cluster::cluster(k8s::connection_settings settings) : client_(std::move(settings), options()) {}

k8s::result<std::vector<k8s::resource>> cluster::discover(const std::string& api_version) {
  const bool core = api_version.find('/') == std::string::npos;
  auto doc = wait_for<k8s::object_ptr>([&](auto done) {
    client_.get_path((core ? "/api/" : "/apis/") + api_version, std::move(done));
  });
  if (!doc) return doc.error();
  std::vector<k8s::resource> out;
  const auto slash = api_version.find('/');
  const std::string group = core ? "" : api_version.substr(0, slash);
  const std::string version = core ? api_version : api_version.substr(slash + 1);
  if (const js::Value* rs = js::find(*doc.value(), "resources"); rs && rs->IsArray())
    for (const auto& r : rs->GetArray()) {
      std::string name(js::get_string(r, "name"));
      if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
      k8s::resource res;
      res.group = group;
      res.version = version;
      res.plural = name;
      res.kind = std::string(js::get_string(r, "kind"));
      res.namespaced = js::get_bool(r, {"namespaced"}, true);
      out.push_back(std::move(res));
    }
  return out;
}

k8s::result<k8s::resource> cluster::resource_for(const std::string& api_version,
                                                 const std::string& kind) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto it = discovered_.find(api_version);
    if (it == discovered_.end() || attempt == 1) {
      auto found = discover(api_version);
      if (!found) {
        if (found.error().kind != k8s::error_kind::not_found) return found.error();
        found = std::vector<k8s::resource>{};
      }
      it = discovered_.insert_or_assign(api_version, std::move(found.value())).first;
    }
    for (const auto& r : it->second)
      if (r.kind == kind) return r;
  }
  return k8s::transport_error(k8s::error_kind::not_found,
                              "the server has no resource for kind " + kind + " in " + api_version);
}

k8s::result<k8s::object_ptr> cluster::get(const k8s::resource& r, const std::string& ns,
                                          const std::string& name) {
  return wait_for<k8s::object_ptr>([&](auto done) { client_.get(r, ns, name, std::move(done)); });
}

k8s::result<k8s::list_page> cluster::list(const k8s::resource& r, const std::string& ns,
                                          const std::string& label_selector) {
  k8s::list_options o;
  o.label_selector = label_selector;
  return wait_for<k8s::list_page>([&](auto done) { client_.list(r, ns, o, std::move(done)); });
}

k8s::result<k8s::object_ptr> cluster::create(const k8s::resource& r, const std::string& ns,
                                             std::string body) {
  return wait_for<k8s::object_ptr>(
      [&](auto done) { client_.create(r, ns, std::move(body), {}, std::move(done)); });
}

k8s::result<k8s::object_ptr> cluster::merge_patch(const k8s::resource& r, const std::string& ns,
                                                  const std::string& name, std::string body) {
  return wait_for<k8s::object_ptr>([&](auto done) {
    client_.patch(r, ns, name, k8s::patch_kind::merge, std::move(body), {}, std::move(done));
  });
}

std::shared_ptr<k8s::stream_handle> cluster::watch(
    const k8s::resource& r, const std::string& ns, const std::string& resource_version,
    std::function<void(std::string_view line)> on_line,
    std::function<void(std::optional<k8s::api_error>)> on_end) {
  k8s::watch_options o;
  o.resource_version = resource_version;
  o.allow_bookmarks = false;
  return client_.watch(r, ns, o, std::move(on_line), std::move(on_end));
}

k8s::result<k8s::object_ptr> cluster::remove(const k8s::resource& r, const std::string& ns,
                                             const std::string& name) {
  k8s::delete_options o;
  o.propagation = "Background";
  return wait_for<k8s::object_ptr>(
      [&](auto done) { client_.remove(r, ns, name, o, std::move(done)); });
}

}  // namespace kuttl
