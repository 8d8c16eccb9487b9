#include "tools/kubesim/api_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <tuple>

#include <fmt/format.h>

#include "k8s/http/url_path.h"
#include "k8s/json/yaml_json.h"
#include "tools/kubesim/access_reviews.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/discovery.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/field_manager.h"
#include "tools/kubesim/freshness_wait.h"
#include "tools/kubesim/impersonation.h"
#include "tools/kubesim/list_options.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/pod_exec.h"
#include "tools/kubesim/protobuf_codec.h"
#include "tools/kubesim/rbac_authorizer.h"
#include "tools/kubesim/rbac_escalation.h"
#include "tools/kubesim/scale_subresource.h"
#include "tools/kubesim/service_account_tokens.h"
#include "tools/kubesim/tables.h"

namespace kubesim {
namespace js = k8s::json;
namespace net = boost::asio;
using k8s::http::exchange;
using k8s::http::request;
using k8s::http::response;

namespace {

constexpr const char* json_type = "application/json";
constexpr const char* aggregated_type =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

// apimachinery's Convert_Slice_string_To_bool: absent → false, "0"/"false" → false, else true.
bool query_bool(const request& r, std::string_view name) {
  const std::string* v = r.query_param(name);
  if (!v) return false;
  std::string s = *v;
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !(s == "0" || s == "false");
}

std::string query_string(const request& r, std::string_view name) {
  const std::string* v = r.query_param(name);
  return v ? *v : std::string();
}

// KUBESIM_TRACE=1 prints every request (never its headers' credentials) to stderr.
bool trace_requests() {
  static const bool on = std::getenv("KUBESIM_TRACE") != nullptr;
  return on;
}

bool accepts_table(const request& r) {
  auto accept = r.header("Accept");
  return accept.find("as=Table") != std::string_view::npos;
}

bool accepts_aggregated_discovery(const request& r) {
  auto accept = r.header("Accept");
  return accept.find("as=APIGroupDiscoveryList") != std::string_view::npos &&
         accept.find("v=v2") != std::string_view::npos;
}

response json_reply(int status, std::string body) {
  return {status, json_type, std::move(body), {}};
}

// A built-in's object, list or Status in protobuf when the client asked for it
// (negotiation.NegotiateOutputMediaType), else JSON.
response encoded_reply(int status, std::string json, bool protobuf) {
  if (protobuf)
    if (auto body = protobuf_codec::encode_object(js::parse(json)))
      return {status, std::string(protobuf_codec::media_type), std::move(*body), {}};
  return json_reply(status, std::move(json));
}

// Whether the answer is protobuf: built-in kinds serve JSON, YAML and protobuf, custom resources
// JSON and YAML (apiextensions-apiserver's unstructured serializer); anything else is a 406.
bool protobuf_response(const request& r, bool builtin) {
  if (accepts_table(r)) return false;
  auto choice = protobuf_codec::negotiate_protobuf(r.header("Accept"), builtin);
  if (!choice)
    throw api_error(406, "NotAcceptable",
                    fmt::format("only the following media types are accepted: {}",
                                builtin ? "application/json, application/yaml, "
                                          "application/vnd.kubernetes.protobuf"
                                        : "application/json, application/yaml"));
  return *choice;
}

response error_reply(const api_error& e, bool protobuf = false) {
  response r = encoded_reply(e.code, e.status_json(), protobuf);
  if (e.retry_after_seconds > 0)
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
  return r;
}

// The patch type the Content-Type names; custom resources take no strategic merge patch.
patch_type patch_type_of(const request& r, bool custom) {
  auto type = r.header("Content-Type");
  type = type.substr(0, type.find(';'));
  if (type == "application/merge-patch+json") return patch_type::merge;
  if (type == "application/json-patch+json") return patch_type::json;
  if (type == "application/strategic-merge-patch+json" && !custom) return patch_type::strategic;
  if (type == "application/apply-patch+yaml") return patch_type::apply;
  throw unsupported_media_type(
      "the body of the request was in an unknown format - accepted media types include: "
      "application/json-patch+json, application/merge-patch+json, " +
      std::string(custom ? "" : "application/strategic-merge-patch+json, ") +
      "application/apply-patch+yaml");
}

// Runs a handler step that may run after dispatch() returned (a freshness wait): its errors
// become the reply there too.
void guarded(const std::shared_ptr<exchange>& ex, const std::function<void()>& step) {
  try {
    step();
  } catch (const api_error& e) {
    ex->reply(error_reply(e));
  } catch (const std::exception& e) {
    ex->reply(error_reply(internal_error(e.what())));
  }
}

// The resourceVersion options of a list or watch query (metav1.ListOptions as decoded).
list_request list_request_of(const request& r, bool watch) {
  list_request lr;
  lr.watch = watch;
  lr.resource_version = query_string(r, "resourceVersion");
  lr.resource_version_match = query_string(r, "resourceVersionMatch");
  if (r.query_param("sendInitialEvents"))
    lr.send_initial_events = query_bool(r, "sendInitialEvents");
  lr.allow_watch_bookmarks = query_bool(r, "allowWatchBookmarks");
  lr.continue_token = query_string(r, "continue");
  return lr;
}

using k8s::http::split_path;

// The object as the client asked for it: another served version only changes apiVersion
// (the "None" conversion strategy of CRDs).
// A kind stored as another (events.k8s.io Events) is converted from the stored form.
std::string object_json(const snapshot& s, const resource_type& t, const std::string& version) {
  if (version == t.storage_version() && !t.stored_as) return s.json;
  js::Document d;
  if (t.stored_as)
    d = t.stored_as->from_storage(s.doc);
  else
    d.CopyFrom(s.doc, d.GetAllocator());
  js::set_string(d, "apiVersion", t.group_version(version), d.GetAllocator());
  return js::to_string(d);
}

// The stored object in the form of the kind it is served as, for tables.
snapshot_ptr as_served(const resource_type& t, const snapshot_ptr& s) {
  if (!t.stored_as || !s) return s;
  auto out = std::make_shared<snapshot>();
  out->doc = t.stored_as->from_storage(s->doc);
  out->json = js::to_string(out->doc);
  out->rv = s->rv;
  return out;
}

std::vector<snapshot_ptr> as_served(const resource_type& t, std::vector<snapshot_ptr> items) {
  if (t.stored_as)
    for (auto& s : items) s = as_served(t, s);
  return items;
}

// A request body of kind `kind` (group/version): JSON, YAML, or protobuf when `protobuf_ok`.
js::Document parse_body_as(const request& r, std::string_view group, std::string_view version,
                           std::string_view kind, bool protobuf_ok) {
  auto type = r.header("Content-Type");
  auto semi = type.find(';');
  auto media = type.substr(0, semi);
  try {
    if (media.empty() || media == "application/json") return js::parse(r.body);
    if (media == "application/yaml") return js::yaml_to_json(r.body);
  } catch (const std::exception& e) {
    throw bad_request(fmt::format("the body of the request could not be decoded: {}", e.what()));
  }
  // Built-in kinds also read protobuf (custom resources do not: 415).
  if (media == protobuf_codec::media_type && protobuf_ok) {
    try {
      return protobuf_codec::decode_protobuf_body(r.body, group, version, kind);
    } catch (const protobuf_codec::decode_error& e) {
      throw bad_request(e.what());
    }
  }
  throw unsupported_media_type(fmt::format(
      "the body of the request was in an unknown format - accepted media types include: "
      "application/json, application/yaml{}",
      protobuf_ok ? ", application/vnd.kubernetes.protobuf" : ""));
}

// The kind a review request's body is (access_reviews.h), as its URL names it; kubectl's typed
// clients send these in protobuf.
std::tuple<std::string, std::string, std::string> review_kind_of(
    const std::vector<std::string>& parts) {
  static const std::map<std::string, std::string, std::less<>> kinds = {
      {"selfsubjectaccessreviews", "SelfSubjectAccessReview"},
      {"selfsubjectrulesreviews", "SelfSubjectRulesReview"},
      {"selfsubjectreviews", "SelfSubjectReview"},
      {"token", "TokenRequest"}};
  if (parts.empty()) return {};
  auto k = kinds.find(parts.back());
  if (k == kinds.end()) return {};
  if (k->first == "token") return {"authentication.k8s.io", "v1", k->second};
  return {parts.size() > 1 ? parts[1] : "", parts.size() > 2 ? parts[2] : "", k->second};
}

// A body of the resource's kind; built-in kinds also read protobuf (custom resources do not: 415).
js::Document parse_body(const request& r, const resource_type& rt, const std::string& version) {
  return parse_body_as(r, rt.group, version, rt.kind, !rt.custom);
}

// kube-apiserver serves /api and the built-in groups with go-restful, which answers an unknown
// route with a 404 Status; any other path (a CRD's group included) ends at Go's http.NotFound.
bool served_by_go_restful(const std::vector<std::string>& parts) {
  if (parts.empty()) return false;
  if (parts[0] == "api" || parts[0] == "openapi") return true;
  if (parts[0] != "apis" || parts.size() < 2) return false;
  for (const auto& t : builtin_types())
    if (!t.group.empty() && t.group == parts[1]) return true;
  return false;
}

// The fieldValidation query parameter (ValidateFieldValidation); absent is Warn, the default.
// ValidateDryRun (apimachinery meta/v1/validation): every dryRun value must be "All".
std::vector<status_cause> dry_run_causes(const std::vector<std::string>& values) {
  if (std::all_of(values.begin(), values.end(), [](const std::string& v) { return v == "All"; }))
    return {};
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ", ") + field::go_quote(v);
  return {field::not_supported("dryRun", "[]string{" + list + "}", {"All"})};
}

std::vector<std::string> dry_run_values(const request& r) {
  std::vector<std::string> values;
  for (const auto& [k, v] : r.query)
    if (k == "dryRun") values.push_back(v);
  return values;
}

// The write's options as ValidateCreateOptions/UpdateOptions/PatchOptions check them: dryRun,
// then fieldValidation, in one 422 about the options kind.
field_validation field_validation_of(const request& r, const char* options_kind) {
  auto causes = dry_run_causes(dry_run_values(r));
  const std::string v = query_string(r, "fieldValidation");
  field_validation result = field_validation::warn;
  if (v == "Strict")
    result = field_validation::strict;
  else if (v == "Ignore")
    result = field_validation::ignore;
  else if (!v.empty() && v != "Warn")
    causes.push_back(field::not_supported("fieldValidation", field::go_quote(v),
                                          {"", "Ignore", "Strict", "Warn"}));
  if (!causes.empty()) throw invalid(options_kind, "meta.k8s.io", "", std::move(causes));
  return result;
}

// net.NewWarningHeader for each text: code 299, agent "-", the text as an RFC 7230 quoted-string.
// The real server sends one header per warning; our HTTP layer keeps one header per name, so
// they are one comma-separated list, which clients (client-go's ParseWarningHeaders) read alike.
std::string warning_header(const std::vector<std::string>& texts) {
  std::string out;
  for (const auto& text : texts) {
    out += out.empty() ? "299 - \"" : ", 299 - \"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

// What a request addresses, once the URL is parsed.
struct target {
  resource_type type;
  std::string version;
  std::string ns;
  std::string name;
  std::string subresource;
};

}  // namespace

// One watch: a sink for cluster events writing to a chunked HTTP stream, with its timers.
class watch_connection : public watch_sink, public std::enable_shared_from_this<watch_connection> {
 public:
  watch_connection(net::io_context& io, cluster_state& state, resource_type type,
                   std::string version, bool table, bool protobuf,
                   std::shared_ptr<k8s::http::stream> out)
      : state_(state),
        type_(std::move(type)),
        version_(std::move(version)),
        table_(table),
        protobuf_(protobuf),
        out_(std::move(out)),
        bookmark_timer_(io),
        timeout_timer_(io) {}

  bool deliver(const watch_event& e) override {
    if (protobuf_) {  // the same event as a length-prefixed protobuf frame
      if (e.object == nullptr)
        return out_->write(
            protobuf_codec::watch_frame(js::parse(bookmark_line(e.rv, e.initial_events_end))));
      js::Document event(rapidjson::kObjectType);
      auto& a = event.GetAllocator();
      event.AddMember("type", js::string_value(e.type, a), a);
      js::Document object = js::parse(object_json(*e.object, type_, version_));
      event.AddMember("object", js::Value(object, a), a);
      return out_->write(protobuf_codec::watch_frame(event));
    }
    if (e.object == nullptr) return out_->write(bookmark_line(e.rv, e.initial_events_end));
    if (table_) {
      return out_->write(fmt::format("{{\"type\":\"{}\",\"object\":{}}}\n", e.type,
                                     table_row_json(type_, *as_served(type_, e.object), true)));
    }
    if (version_ != type_.storage_version() || type_.stored_as)
      return out_->write(fmt::format("{{\"type\":\"{}\",\"object\":{}}}\n", e.type,
                                     object_json(*e.object, type_, version_)));
    e.line();
    return out_->write(e.json_line);
  }

  void start(uint64_t id, int timeout_seconds, int bookmark_ms) {
    id_ = id;
    auto self = shared_from_this();
    out_->on_close([self] { self->stop(); });
    if (out_->closed()) return stop();
    if (bookmark_ms > 0) arm_bookmark(bookmark_ms);
    timeout_timer_.expires_after(std::chrono::seconds(timeout_seconds));
    timeout_timer_.async_wait([self](boost::system::error_code ec) {
      if (ec) return;
      // A last bookmark before a clean close lets the client resume exactly here.
      if (self->bookmarks_) self->state_.send_bookmark(self->id_);
      self->out_->close();
    });
  }
  void enable_bookmarks() { bookmarks_ = true; }
  void close() { out_->close(); }
  void stop() {
    if (stopped_.exchange(true)) return;
    state_.unwatch(id_);
    auto self = shared_from_this();
    net::post(bookmark_timer_.get_executor(), [self] {
      self->bookmark_timer_.cancel();
      self->timeout_timer_.cancel();
    });
  }

 private:
  // An empty object of the watched kind with only its resourceVersion, as the cacher sends; the
  // one ending a watch-list's initial events carries storage.AnnotateInitialEventsEndBookmark's
  // annotation.
  std::string bookmark_line(uint64_t rv, bool initial_events_end) const {
    return fmt::format(
        "{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"{}\",\"apiVersion\":\"{}\","
        "\"metadata\":{{\"resourceVersion\":\"{}\"{}}}}}}}\n",
        type_.kind, type_.group_version(version_), rv,
        initial_events_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
  }
  void arm_bookmark(int ms) {
    auto self = shared_from_this();
    bookmark_timer_.expires_after(std::chrono::milliseconds(ms));
    bookmark_timer_.async_wait([self, ms](boost::system::error_code ec) {
      if (ec || self->stopped_) return;
      if (self->bookmarks_) self->state_.send_bookmark(self->id_);
      self->arm_bookmark(ms);
    });
  }

  cluster_state& state_;
  resource_type type_;
  std::string version_;
  bool table_;
  bool protobuf_;  // application/vnd.kubernetes.protobuf;stream=watch
  std::shared_ptr<k8s::http::stream> out_;
  net::steady_timer bookmark_timer_;
  net::steady_timer timeout_timer_;
  uint64_t id_ = 0;
  bool bookmarks_ = false;
  std::atomic<bool> stopped_{false};
};

struct api_server::impl : std::enable_shared_from_this<api_server::impl> {
  net::io_context& io;
  cluster_state& state;
  api_server_options options;
  mutable std::mutex mutex;
  std::set<std::string> tokens;
  fault_settings faults;
  std::vector<std::weak_ptr<watch_connection>> watches;
  std::mt19937 rng{std::random_device{}()};
  exec_runner exec;  // set before serving; read without the lock

  impl(net::io_context& io, cluster_state& s, api_server_options o)
      : io(io), state(s), options(std::move(o)) {}

  void handle(const std::shared_ptr<exchange>& ex);
  void dispatch(const std::shared_ptr<exchange>& ex);
  std::optional<user_info> authenticate(const request& r) const;
  user_info authorized_user(const request& r) const;
  std::optional<response> injected_error();
  target resolve(const std::vector<std::string>& parts, size_t first, const std::string& group,
                 const std::string& version, bool& is_collection);
  void serve_resource(const std::shared_ptr<exchange>& ex, const target& t, bool collection);
  // The kind whose storage a kind stored as another writes to.
  resource_type storage_type(const resource_type& t) {
    auto st = state.find_type(t.stored_as->group, t.stored_as->version, t.plural);
    if (!st) throw std::logic_error("no storage kind for " + t.id());
    return *st;
  }
  void serve_list(const std::shared_ptr<exchange>& ex, const target& t, bool protobuf);
  void serve_scale(const std::shared_ptr<exchange>& ex, const target& t, const write_options& wo,
                   bool protobuf);
  void answer_list(const std::shared_ptr<exchange>& ex, const target& t, const list_options& o,
                   bool protobuf);
  void start_watch(const std::shared_ptr<exchange>& ex, const target& t, watch_options o,
                   uint64_t too_large_rv, int timeout);
  void check_rbac_write(const user_info& user, const request& r, const target& t);
  void serve_watch(const std::shared_ptr<exchange>& ex, const target& t);
  std::optional<response> serve_discovery(const request& r, const std::vector<std::string>& parts);
};

api_server::api_server(net::io_context& io, cluster_state& state, api_server_options options)
    : impl_(std::make_shared<impl>(io, state, std::move(options))) {}

api_server::~api_server() {
  close_watches();
}

void api_server::handle(std::shared_ptr<exchange> ex) {
  impl_->handle(ex);
}

void api_server::set_tokens(std::set<std::string> tokens) {
  std::lock_guard lock(impl_->mutex);
  impl_->tokens = std::move(tokens);
}

fault_settings api_server::faults() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->faults;
}

void api_server::set_faults(const fault_settings& f) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults = f;
}

void api_server::set_exec_runner(exec_runner run) {
  impl_->exec = std::move(run);
}

void api_server::set_address(std::string server_address) {
  std::lock_guard lock(impl_->mutex);
  impl_->options.server_address = std::move(server_address);
}

void api_server::close_watches() {
  std::vector<std::shared_ptr<watch_connection>> live;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& w : impl_->watches)
      if (auto s = w.lock()) live.push_back(std::move(s));
    impl_->watches.clear();
  }
  for (auto& w : live) w->close();
}

size_t api_server::open_watches() const {
  std::lock_guard lock(impl_->mutex);
  size_t n = 0;
  for (auto& w : impl_->watches)
    if (!w.expired()) ++n;
  return n;
}

// kube-apiserver's union authenticator: x509 first, then bearer tokens; a failing one is an error
// (401) unless a later one succeeds; anonymous (system:anonymous) applies only when none of them
// errored.
std::optional<user_info> api_server::impl::authenticate(const request& r) const {
  if (!r.client_cert_subject.empty()) {
    // x509.CommonNameUserConversion: CN is the user, O the groups.
    user_info u{r.client_cert_subject, "", r.client_cert_organizations, {}};
    u.groups.push_back("system:authenticated");
    return u;
  }
  bool failed = r.client_cert_unverified;
  // bearertoken.go: SplitN(TrimSpace(header), " ", 3); a non-Bearer scheme or an empty token is
  // no credential at all, not a failure.
  std::string_view auth = r.header("Authorization");
  while (!auth.empty() && std::isspace(static_cast<unsigned char>(auth.front())))
    auth.remove_prefix(1);
  while (!auth.empty() && std::isspace(static_cast<unsigned char>(auth.back())))
    auth.remove_suffix(1);
  auto space = auth.find(' ');
  if (space != std::string_view::npos) {
    std::string scheme(auth.substr(0, space));
    for (auto& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto token = auth.substr(space + 1);
    token = token.substr(0, token.find(' '));
    if (scheme == "bearer" && !token.empty()) {
      {
        std::lock_guard lock(mutex);
        if (tokens.count(std::string(token)))
          return user_info{"kubesim-admin", "", {kMastersGroup, "system:authenticated"}, {}};
      }
      bool ours = false;
      if (options.sa_tokens)
        if (auto u = options.sa_tokens->authenticate(std::string(token), ours)) return u;
      failed = true;
    }
  }
  if (failed) return std::nullopt;
  return user_info{"system:anonymous", "", {"system:unauthenticated"}, {}};
}

// Authentication, impersonation, then RBAC, in the order of the real handler chain; throws the
// 401 or 403 that ends the request.
user_info api_server::impl::authorized_user(const request& r) const {
  auto who = authenticate(r);
  if (!who) throw unauthorized();
  const rbac_policy policy = policy_of(state);
  auto allowed = [&](const user_info& u, const request_attributes& a, std::string& reason) {
    auto d = authorize(u, a, policy);
    reason = d.reason;
    return d.allowed;
  };
  if (auto as =
          impersonated_user(r.headers, *who, [&](const request_attributes& a, std::string& reason) {
            return allowed(*who, a, reason);
          }))
    who = std::move(as);
  auto attributes = request_attributes_of(r.method, r.path, r.query);
  std::string reason;
  if (!allowed(*who, attributes, reason)) throw forbidden_error(*who, attributes, reason);
  return *who;
}

// RBAC's escalation check judges the object as it would be stored: a dry run of the same write.
void api_server::impl::check_rbac_write(const user_info& user, const request& r, const target& t) {
  if (t.type.group != "rbac.authorization.k8s.io" || user.in_group(kMastersGroup)) return;
  if (r.method != "POST" && r.method != "PUT" && r.method != "PATCH") return;
  write_options dry;
  dry.dry_run = true;
  dry.version = t.version;
  const std::string ns = t.type.namespaced ? t.ns : "";
  snapshot_ptr result;
  if (r.method == "POST") {
    result = state.create(t.type, ns, parse_body(r, t.type, t.version), dry).object;
  } else if (r.method == "PUT") {
    result = state.update(t.type, ns, t.name, parse_body(r, t.type, t.version), false, dry);
  } else {
    auto type = r.header("Content-Type");
    type = type.substr(0, type.find(';'));
    patch_type pt;
    if (type == "application/merge-patch+json")
      pt = patch_type::merge;
    else if (type == "application/json-patch+json")
      pt = patch_type::json;
    else if (type == "application/strategic-merge-patch+json")
      pt = patch_type::strategic;
    else if (type == "application/apply-patch+yaml")
      pt = patch_type::apply;
    else
      return;  // refused with 415 by serve_resource
    dry.field_manager = query_string(r, "fieldManager");
    dry.force = query_bool(r, "force");
    result = state.patch(t.type, ns, t.name, pt, r.body, false, dry).object;
  }
  check_no_escalation(user, t.type.plural, ns, result->doc, policy_of(state));
}

std::optional<response> api_server::impl::injected_error() {
  std::lock_guard lock(mutex);
  if (faults.error_rate <= 0) return std::nullopt;
  if (std::uniform_real_distribution<double>(0, 1)(rng) >= faults.error_rate) return std::nullopt;
  if (faults.error_code == 429) {
    // The API server's overload filters (max-in-flight, priority and fairness) answer with
    // http.Error: plain text, not a Status object.
    return response{429,
                    "text/plain; charset=utf-8",
                    "Too many requests, please try again later.\n",
                    {{"Retry-After", std::to_string(faults.retry_after_seconds)}}};
  }
  return error_reply(internal_error("injected fault"));
}

void api_server::impl::handle(const std::shared_ptr<exchange>& ex) {
  int latency;
  {
    std::lock_guard lock(mutex);
    latency = faults.latency_ms;
  }
  if (latency <= 0) return dispatch(ex);
  auto timer = std::make_shared<net::steady_timer>(io, std::chrono::milliseconds(latency));
  auto self = shared_from_this();
  timer->async_wait([self, ex, timer](boost::system::error_code) { self->dispatch(ex); });
}

void api_server::impl::dispatch(const std::shared_ptr<exchange>& ex) {
  const request& r = ex->req();
  if (trace_requests())
    std::fprintf(stderr, "kubesim %s %s %s accept=%s type=%s\n", state.name().c_str(),
                 r.method.c_str(), r.target.c_str(), std::string(r.header("Accept")).c_str(),
                 std::string(r.header("Content-Type")).c_str());
  try {
    user_info user;
    if (options.authenticate) user = authorized_user(r);
    if (auto err = injected_error()) return ex->reply(*err);
    auto parts = split_path(r.path);
    auto review_body = [&] {
      auto [group, version, kind] = review_kind_of(parts);
      return parse_body_as(r, group, version, kind, true);
    };
    if (auto review =
            serve_access_review(r.method, parts, review_body, user, state, options.sa_tokens))
      return ex->reply(
          encoded_reply(review->code, std::move(review->json), protobuf_response(r, true)));
    if (r.path == "/healthz" || r.path == "/livez" || r.path == "/readyz")
      return ex->reply({200, "text/plain; charset=utf-8", "ok", {}});
    // go-restful serves the version WebService at "/version" and "/version/" (Python's VersionApi).
    if (r.path == "/version" || r.path == "/version/")
      return ex->reply(json_reply(200, version_info()));
    if (auto d = serve_discovery(r, parts)) return ex->reply(std::move(*d));
    bool collection = false;
    if (parts.size() >= 3 && parts[0] == "api" && parts[1] == "v1") {
      target t = resolve(parts, 2, "", "v1", collection);
      return serve_resource(ex, t, collection);
    }
    if (parts.size() >= 4 && parts[0] == "apis") {
      target t = resolve(parts, 3, parts[1], parts[2], collection);
      if (options.authenticate) check_rbac_write(user, r, t);
      return serve_resource(ex, t, collection);
    }
    throw path_not_found();
  } catch (const api_error& e) {
    if (e.code == 404 && e.empty_details && !served_by_go_restful(split_path(r.path)))
      return ex->reply({404,
                        "text/plain; charset=utf-8",
                        "404 page not found\n",
                        {{"X-Content-Type-Options", "nosniff"}}});
    // A built-in group's handlers answer in the negotiated media type, protobuf included.
    bool protobuf = false;
    if (served_by_go_restful(split_path(r.path))) try {
        protobuf = protobuf_response(r, true);
      } catch (const api_error&) {
      }
    ex->reply(error_reply(e, protobuf));
  } catch (const std::exception& e) {
    ex->reply(error_reply(internal_error(e.what())));
  }
}

std::optional<response> api_server::impl::serve_discovery(const request& r,
                                                          const std::vector<std::string>& parts) {
  auto discovery_types = [&] { return with_review_types(state.types()); };
  if (r.method != "GET") return std::nullopt;
  if (parts.size() == 1 && (parts[0] == "api" || parts[0] == "apis")) {
    auto types = discovery_types();
    if (accepts_aggregated_discovery(r))
      return response{200, aggregated_type, aggregated_discovery(types, parts[0] == "api"), {}};
    std::string address;
    {
      std::lock_guard lock(mutex);
      address = options.server_address;
    }
    return json_reply(200, parts[0] == "api" ? api_versions(address) : api_group_list(types));
  }
  if (parts.size() == 2 && parts[0] == "api" && parts[1] == "v1")
    return json_reply(200, api_resource_list(discovery_types(), "", "v1"));
  if (parts.size() == 2 && parts[0] == "apis") {
    auto body = api_group(discovery_types(), parts[1]);
    if (body.empty()) throw path_not_found();
    return json_reply(200, body);
  }
  if (parts.size() == 3 && parts[0] == "apis") {
    auto body = api_resource_list(discovery_types(), parts[1], parts[2]);
    if (body.empty()) throw path_not_found();
    return json_reply(200, body);
  }
  if (!parts.empty() && parts[0] == "openapi") {
    if (parts.size() == 2 && parts[1] == "v3")
      return json_reply(200, openapi_v3_root(discovery_types(), state.types_revision()));
    if (parts.size() > 2 && parts[1] == "v3") {
      std::string gv;
      for (size_t i = 2; i < parts.size(); ++i) gv += (i > 2 ? "/" : "") + parts[i];
      auto body = openapi_v3_group_version(discovery_types(), gv, state.types_revision());
      if (body.empty()) throw path_not_found();
      response res = json_reply(200, body);
      res.headers.emplace_back("Cache-Control", "no-cache, private");
      return res;
    }
    throw path_not_found();
  }
  return std::nullopt;
}

// URL forms after the group-version prefix:
//   {plural} | {plural}/{name} | {plural}/{name}/{sub}                     (cluster scope / all ns)
//   namespaces/{ns}/{plural} | namespaces/{ns}/{plural}/{name}[/{sub}]
// "namespaces/{name}/status|finalize" addresses the namespace object itself.
target api_server::impl::resolve(const std::vector<std::string>& parts, size_t first,
                                 const std::string& group, const std::string& version,
                                 bool& is_collection) {
  std::vector<std::string> rest(parts.begin() + static_cast<long>(first), parts.end());
  target t;
  t.version = version;
  std::string plural;
  if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status" && rest[2] != "finalize") {
    t.ns = rest[1];
    plural = rest[2];
    if (rest.size() >= 4) t.name = rest[3];
    if (rest.size() >= 5) t.subresource = rest[4];
    if (rest.size() > 5) throw path_not_found();
  } else {
    plural = rest[0];
    if (rest.size() >= 2) t.name = rest[1];
    if (rest.size() >= 3) t.subresource = rest[2];
    if (rest.size() > 3) throw path_not_found();
  }
  auto type = state.find_type(group, version, plural);
  if (!type) throw path_not_found();
  t.type = *type;
  if (!t.type.namespaced && !t.ns.empty()) throw path_not_found();
  if (!t.subresource.empty() && !(t.subresource == "status" && t.type.has_status) &&
      !(t.subresource == "finalize" && t.type.kind == "Namespace") &&
      !(t.subresource == "exec" && t.type.kind == "Pod" && t.type.group.empty()) &&
      !(t.subresource == "scale" && scale::paths_of(t.type, version)))
    throw path_not_found();
  is_collection = t.name.empty();
  return t;
}

void api_server::impl::serve_resource(const std::shared_ptr<exchange>& ex, const target& t,
                                      bool collection) {
  const request& r = ex->req();
  std::vector<std::string> warnings;
  write_options wo;
  wo.dry_run = !dry_run_values(r).empty();  // only "All" gets past the options' validation
  if (r.method == "DELETE")
    if (auto causes = dry_run_causes(dry_run_values(r)); !causes.empty())
      throw invalid("DeleteOptions", "meta.k8s.io", "", std::move(causes));
  wo.field_manager = query_string(r, "fieldManager");
  wo.user_agent = std::string(r.header("User-Agent"));
  wo.force = query_bool(r, "force");
  wo.version = t.version;
  wo.warnings = &warnings;
  const std::string ns = t.type.namespaced ? t.ns : "";
  const bool watch = r.method == "GET" && collection && query_bool(r, "watch");
  const bool protobuf = !watch && protobuf_response(r, !t.type.custom);
  auto reply_object = [&](int code, const snapshot_ptr& s) {
    response res = encoded_reply(code, object_json(*s, t.type, t.version), protobuf);
    if (!warnings.empty()) res.headers.emplace_back("Warning", warning_header(warnings));
    ex->reply(std::move(res));
  };
  if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    const char* options_kind = r.method == "POST"  ? "CreateOptions"
                               : r.method == "PUT" ? "UpdateOptions"
                                                   : "PatchOptions";
    if (auto causes = field_manager_causes(wo.field_manager); !causes.empty())
      throw invalid(options_kind, "meta.k8s.io", "", std::move(causes));
    wo.validation = field_validation_of(r, options_kind);
  }

  if (collection) {
    if (r.method == "GET") {
      if (query_bool(r, "watch")) return serve_watch(ex, t);
      return serve_list(ex, t, protobuf);
    }
    if (r.method == "POST") {
      if (t.type.namespaced && t.ns.empty())
        throw method_not_allowed("the server does not allow this method on the requested resource");
      auto body = parse_body(r, t.type, t.version);
      if (!body.IsObject()) throw bad_request("the body of the request must be a JSON object");
      std::string api_version(js::get_string(body, "apiVersion"));
      std::string kind(js::get_string(body, "kind"));
      // A built-in's decoder takes the kind and version the URL names when the body has none
      // (runtime/serializer/json Decode with the request's default GVK); a custom resource's
      // unstructured decoder needs them in the body.
      const bool url_gvk = !t.type.custom;
      if (kind.empty() && !url_gvk)
        throw bad_request(fmt::format("Object 'Kind' is missing in '{}'", r.body.substr(0, 200)));
      if (kind.empty()) kind = t.type.kind;
      if (api_version.empty() && url_gvk) api_version = t.type.group_version(t.version);
      if (api_version != t.type.group_version(t.version))
        throw bad_request(fmt::format(
            "the API version in the data ({}) does not match the expected API version ({})",
            api_version, t.type.group_version(t.version)));
      if (kind != t.type.kind)
        throw bad_request(fmt::format(
            "the kind in the data ({}) does not match the expected kind ({})", kind, t.type.kind));
      if (t.type.stored_as)
        return reply_object(
            201,
            state.create(storage_type(t.type), ns, t.type.stored_as->to_storage(body), wo).object);
      auto res = state.create(t.type, ns, std::move(body), wo);
      return reply_object(201, res.object);
    }
    if (r.method == "DELETE") {
      list_options lo;
      lo.label_selector = query_string(r, "labelSelector");
      lo.field_selector = query_string(r, "fieldSelector");
      delete_options d;
      d.dry_run = wo.dry_run;
      auto gone = state.remove_collection(t.type, ns, lo, d);
      std::string items;
      for (auto& s : gone) items += (items.empty() ? "" : ",") + object_json(*s, t.type, t.version);
      return ex->reply(encoded_reply(
          200,
          fmt::format(
              R"({{"kind":"{}","apiVersion":"{}","metadata":{{"resourceVersion":"{}"}},"items":[{}]}})",
              t.type.list_kind, t.type.group_version(t.version), state.current_rv(), items),
          protobuf));
    }
    throw method_not_allowed("the server does not allow this method on the requested resource");
  }

  if (t.subresource == "scale") return serve_scale(ex, t, wo, protobuf);
  if (t.subresource == "exec") {
    // A connect subresource: GET (WebSocket) and POST (SPDY and WebSocket) only.
    if (r.method != "GET" && r.method != "POST")
      throw method_not_allowed("the server does not allow this method on the requested resource");
    return serve_pod_exec(ex, state.get(t.type, ns, t.name)->doc, exec);
  }
  const bool status_only = t.subresource == "status";
  if (r.method == "GET") {
    auto answer = [self = shared_from_this(), ex, t, ns, protobuf] {
      auto obj = self->state.get(t.type, ns, t.name);
      if (accepts_table(ex->req()) && t.subresource.empty())
        return ex->reply(json_reply(
            200, table_json(t.type, {as_served(t.type, obj)}, std::to_string(obj->rv), "", -1,
                            query_string(ex->req(), "includeObject") != "None")));
      ex->reply(encoded_reply(200, object_json(*obj, t.type, t.version), protobuf));
    };
    // The cacher's Get serves a resourceVersion once it has reached it (waitUntilFreshAndBlock).
    auto rv = parse_rv(query_string(r, "resourceVersion")).value_or(0);
    return wait_until_fresh(io, state, rv, [self = shared_from_this(), ex, rv, answer](bool fresh) {
      guarded(ex, [&] {
        if (!fresh) throw too_large_resource_version(rv, self->state.current_rv());
        answer();
      });
    });
  }
  if (r.method == "PUT") {
    auto body = parse_body(r, t.type, t.version);
    if (t.subresource == "finalize") {
      // Namespace finalize: only spec.finalizers may change.
      auto cur = state.get(t.type, ns, t.name);
      js::Document next;
      next.CopyFrom(cur->doc, next.GetAllocator());
      if (const js::Value* f = js::find_path(body, {"spec", "finalizers"}))
        js::set_member(js::ensure_object(next, "spec", next.GetAllocator()), "finalizers",
                       js::Value(*f, next.GetAllocator()), next.GetAllocator());
      return reply_object(200, state.update(t.type, ns, t.name, std::move(next), false, wo));
    }
    if (t.type.stored_as)
      return reply_object(200, state.update(storage_type(t.type), ns, t.name,
                                            t.type.stored_as->to_storage(body), status_only, wo));
    return reply_object(200, state.update(t.type, ns, t.name, std::move(body), status_only, wo));
  }
  if (r.method == "PATCH") {
    patch_type pt = patch_type_of(r, t.type.custom);
    if (pt != patch_type::apply && r.query_param("force"))  // ValidatePatchOptions
      throw invalid("PatchOptions", "meta.k8s.io", "",
                    {field::forbidden("force", "may not be specified for non-apply patch")});
    auto res = state.patch(t.type, ns, t.name, pt, r.body, status_only, wo);
    return reply_object(res.created ? 201 : 200, res.object);
  }
  if (r.method == "DELETE" && t.subresource.empty()) {
    delete_options o;
    o.dry_run = wo.dry_run;
    if (!r.body.empty()) {
      js::Document body;
      try {
        // Go typed clients send their DeleteOptions in protobuf too.
        auto type = r.header("Content-Type");
        body = type.substr(0, type.find(';')) == protobuf_codec::media_type
                   ? protobuf_codec::decode_protobuf_body(r.body, t.type.group, t.version,
                                                          "DeleteOptions")
                   : js::parse(r.body);
      } catch (const std::exception& e) {
        throw bad_request(
            fmt::format("the body of the request could not be decoded: {}", e.what()));
      }
      o.propagation = std::string(js::get_string(body, "propagationPolicy", "Background"));
      o.precondition_uid = js::get_string(body, {"preconditions", "uid"});
      o.precondition_rv = js::get_string(body, {"preconditions", "resourceVersion"});
      if (const js::Value* dr = js::find(body, "dryRun"); dr && dr->IsArray() && !dr->Empty()) {
        std::vector<std::string> values;
        for (const auto& v : dr->GetArray()) values.emplace_back(js::view(v));
        if (auto causes = dry_run_causes(values); !causes.empty())
          throw invalid("DeleteOptions", "meta.k8s.io", "", std::move(causes));
        o.dry_run = true;
      }
      if (js::find(body, "orphanDependents") && js::get_bool(body, {"orphanDependents"}, false))
        o.propagation = "Orphan";
    }
    if (auto p = query_string(r, "propagationPolicy"); !p.empty()) o.propagation = p;
    auto res = state.remove(t.type, ns, t.name, o);
    if (!res.gone || t.type.returns_deleted_object) return reply_object(200, res.object);
    js::Document st = status_object("Success");
    auto& a = st.GetAllocator();
    js::Value details(rapidjson::kObjectType);
    details.AddMember("name", js::string_value(t.name, a), a);
    details.AddMember("group", js::string_value(t.type.group, a), a);
    details.AddMember("kind", js::string_value(t.type.plural, a), a);
    details.AddMember("uid",
                      js::string_value(js::get_string(res.object->doc, {"metadata", "uid"}), a), a);
    st.AddMember("details", details, a);
    return ex->reply(encoded_reply(200, js::to_string(st), protobuf));
  }
  throw method_not_allowed("the server does not allow this method on the requested resource");
}

// GET, PUT and PATCH of the scale subresource: reads and writes go to the parent object.
void api_server::impl::serve_scale(const std::shared_ptr<exchange>& ex, const target& t,
                                   const write_options& wo, bool protobuf) {
  const request& r = ex->req();
  const auto paths = *scale::paths_of(t.type, t.version);
  const std::string ns = t.type.namespaced ? t.ns : "";
  if (r.method == "GET")
    return ex->reply(
        encoded_reply(200, scale::scale_of(paths, state.get(t.type, ns, t.name)->doc), protobuf));
  js::Document next;
  snapshot_ptr parent = state.get(t.type, ns, t.name);
  if (r.method == "PUT") {
    next = parse_body_as(r, "autoscaling", "v1", "Scale", !t.type.custom);
  } else if (r.method == "PATCH") {
    next =
        scale::patched(scale::scale_of(paths, parent->doc, true), patch_type_of(r, false), r.body);
  } else {
    throw method_not_allowed("the server does not allow this method on the requested resource");
  }
  write_options parent_wo = wo;
  parent_wo.version = t.version;
  auto written =
      state.patch(t.type, ns, t.name, patch_type::merge,
                  scale::parent_patch(t.type, paths, t.name, parent->doc, next), false, parent_wo);
  ex->reply(encoded_reply(200, scale::scale_of(paths, written.object->doc), protobuf));
}

void api_server::impl::serve_list(const std::shared_ptr<exchange>& ex, const target& t,
                                  bool protobuf) {
  const request& r = ex->req();
  list_options o;
  o.label_selector = query_string(r, "labelSelector");
  o.field_selector = query_string(r, "fieldSelector");
  o.continue_token = query_string(r, "continue");
  if (auto limit = query_string(r, "limit"); !limit.empty()) {
    auto n = parse_rv(limit);
    if (!n) throw bad_request(fmt::format("invalid limit: {}", limit));
    o.limit = static_cast<size_t>(*n);
  }
  list_request lr = list_request_of(r, false);
  lr.limit = static_cast<long long>(o.limit);
  validate_list_request(lr);
  list_read plan = plan_list_read(lr);
  o.exact_rv = plan.exact;
  if (plan.ignore_limit) o.limit = 0;
  // NotOlderThan a resourceVersion not reached yet: the watch cache waits for it.
  wait_until_fresh(io, state, plan.min_rv,
                   [self = shared_from_this(), ex, t, o, min = plan.min_rv, protobuf](bool fresh) {
                     guarded(ex, [&] {
                       if (!fresh) throw too_large_resource_version(min, self->state.current_rv());
                       self->answer_list(ex, t, o, protobuf);
                     });
                   });
}

void api_server::impl::answer_list(const std::shared_ptr<exchange>& ex, const target& t,
                                   const list_options& o, bool protobuf) {
  const request& r = ex->req();
  auto res = state.list(t.type, t.type.namespaced ? t.ns : "", o);
  if (accepts_table(r)) {
    bool include_object = query_string(r, "includeObject") != "None";
    return ex->reply(
        json_reply(200, table_json(t.type, as_served(t.type, res.items), std::to_string(res.rv),
                                   res.continue_token, res.remaining, include_object)));
  }
  std::string body;
  size_t size = 256;
  for (auto& s : res.items) size += s->json.size() + 1;
  body.reserve(size);
  body += fmt::format(R"({{"kind":"{}","apiVersion":"{}","metadata":{{"resourceVersion":"{}")",
                      t.type.list_kind, t.type.group_version(t.version), res.rv);
  if (!res.continue_token.empty()) body += fmt::format(R"(,"continue":"{}")", res.continue_token);
  if (res.remaining >= 0) body += fmt::format(R"(,"remainingItemCount":{})", res.remaining);
  body += R"(},"items":[)";
  for (size_t i = 0; i < res.items.size(); ++i) {
    if (i) body += ',';
    body += object_json(*res.items[i], t.type, t.version);
  }
  body += "]}";
  ex->reply(encoded_reply(200, std::move(body), protobuf));
}

void api_server::impl::serve_watch(const std::shared_ptr<exchange>& ex, const target& t) {
  const request& r = ex->req();
  watch_options o;
  o.namespace_name = t.type.namespaced ? t.ns : "";
  o.label_selector = query_string(r, "labelSelector");
  o.field_selector = query_string(r, "fieldSelector");
  list_request lr = list_request_of(r, true);
  default_list_request(lr);
  validate_list_request(lr);
  auto rv = requested_rv(lr);
  uint64_t wait_for = 0;
  if (sends_initial_events(lr)) {
    // A watch-list (cacher.Watch): the current state once the cache is at least at rv, then the
    // BOOKMARK ending it when bookmarks are allowed.
    wait_for = rv.value_or(0);
    o.initial_events_end_bookmark = lr.allow_watch_bookmarks;
  } else if (rv && *rv != 0) {
    o.from_rv = *rv;
  } else {
    o.from_now = true;  // sendInitialEvents=false from "" or "0": from the current state on
  }
  // Bad selectors are a 400 before any stream starts, as on the real server.
  try {
    label_selector::parse(o.label_selector);
    validate_fields(field_selector::parse(o.field_selector), t.type.kind, t.type.custom);
  } catch (const selector_error& e) {
    throw bad_request(e.what());
  }
  int timeout = 0;
  if (auto ts = query_string(r, "timeoutSeconds"); !ts.empty()) {
    auto n = parse_rv(ts);
    if (!n) throw bad_request(fmt::format("invalid timeoutSeconds: {}", ts));
    timeout = static_cast<int>(std::min<unsigned long long>(*n, 24 * 3600));
  }
  if (timeout == 0)
    timeout = 1800 + static_cast<int>(std::uniform_int_distribution<int>(0, 1800)(rng));
  wait_until_fresh(
      io, state, wait_for, [self = shared_from_this(), ex, t, o, wait_for, timeout](bool fresh) {
        guarded(ex, [&] { self->start_watch(ex, t, o, fresh ? 0 : wait_for, timeout); });
      });
}

void api_server::impl::start_watch(const std::shared_ptr<exchange>& ex, const target& t,
                                   watch_options o, uint64_t too_large_rv, int timeout) {
  const request& r = ex->req();
  bool expire_now = false;
  {
    std::lock_guard lock(mutex);
    if (faults.expire_next_watch && o.from_rv) {
      faults.expire_next_watch = false;
      expire_now = true;
    }
  }
  const bool protobuf = protobuf_response(r, !t.type.custom);
  auto out =
      ex->start_stream(200, protobuf ? std::string(protobuf_codec::watch_media_type) : json_type);
  auto error_event = [protobuf](const api_error& e) {
    std::string line = fmt::format(R"({{"type":"ERROR","object":{}}})", e.status_json());
    return protobuf ? protobuf_codec::watch_frame(js::parse(line)) : line + "\n";
  };
  auto send_expired = [&](const std::string& message) {
    out->write(error_event(gone(message)));
    out->close();
  };
  if (expire_now) {
    send_expired(fmt::format("too old resource version: {} ({})", *o.from_rv, *o.from_rv + 1));
    return;
  }
  if (too_large_rv) {
    // The cacher's errWatcher: the stream starts, then one ERROR event.
    out->write(error_event(too_large_resource_version(too_large_rv, state.current_rv())));
    out->close();
    return;
  }
  auto conn = std::make_shared<watch_connection>(io, state, t.type, t.version, accepts_table(r),
                                                 protobuf, out);
  if (query_bool(r, "allowWatchBookmarks")) conn->enable_bookmarks();
  uint64_t id;
  try {
    id = state.watch(t.type, o, conn);
  } catch (const api_error& e) {
    if (e.code != 410) {
      // Headers are already sent: report like the server does mid-stream.
      out->write(error_event(e));
      out->close();
      return;
    }
    send_expired(e.what());
    return;
  }
  {
    std::lock_guard lock(mutex);
    watches.erase(
        std::remove_if(watches.begin(), watches.end(), [](auto& w) { return w.expired(); }),
        watches.end());
    watches.push_back(conn);
  }
  conn->start(id, timeout, options.bookmark_interval_ms);
}

}  // namespace kubesim
