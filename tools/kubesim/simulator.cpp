#include "tools/kubesim/simulator.h"

#include <algorithm>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "tools/kubesim/auth_controllers.h"
#include "tools/kubesim/bootstrap_policy.h"
#include "tools/kubesim/cassandra_pod_spec.h"
#include "tools/kubesim/cassandra_pods.h"
#include "tools/kubesim/casskop_standin.h"
#include "tools/kubesim/cluster_files.h"
#include "tools/kubesim/disruption_controller.h"
#include "tools/kubesim/service_account_tokens.h"
#include "tools/kubesim/workloads.h"

namespace kubesim {
namespace net = boost::asio;
using k8s::http::exchange;
using k8s::http::response;

namespace {
response json_reply(int status, std::string body) {
  return {status, "application/json", std::move(body), {}};
}
response control_error(int status, const std::string& message) {
  k8s::json::Document d(rapidjson::kObjectType);
  d.AddMember("error", k8s::json::string_value(message, d.GetAllocator()), d.GetAllocator());
  return json_reply(status, k8s::json::to_string(d));
}
// Whole-string numbers only: "10abc", "" and "nan" are refused (std::invalid_argument → 400).
int parse_int(std::string_view key, const std::string& v, int min) {
  size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (v.empty() || used != v.size() || n < min)
    throw std::invalid_argument(fmt::format("{} must be an integer >= {}", key, min));
  return n;
}
// A whole-string number within [lo, hi] (lo excluded when open_low): "nan" and "1x" are refused.
double parse_number(std::string_view key, const std::string& v, double lo, bool open_low, double hi,
                    std::string_view expected) {
  size_t used = 0;
  double d = -1;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const bool low_ok = open_low ? d > lo : d >= lo;
  if (v.empty() || used != v.size() || !(low_ok && d <= hi))
    throw std::invalid_argument(fmt::format("{} must be {}", key, expected));
  return d;
}
double parse_fraction(std::string_view key, const std::string& v) {
  return parse_number(key, v, 0, false, 1, "between 0 and 1");
}
// A positive factor: "0.01", "1".
// A dotted IPv4 address in 127.0.0.0/8, where simulated pod IPs live.
bool is_loopback_v4(const std::string& v) {
  boost::system::error_code ec;
  auto a = net::ip::make_address_v4(v, ec);
  return !ec && a.is_loopback();
}

double parse_scale(std::string_view key, const std::string& v) {
  return parse_number(key, v, 0, true, 1000, "a number above 0 (at most 1000)");
}
}  // namespace

simulator::simulator(simulator_options options)
    : options_(std::move(options)), io_(std::make_unique<net::io_context>()) {}

simulator::~simulator() {
  stop();
}

void simulator::start() {
  namespace fs = std::filesystem;
  fs::create_directories(options_.state_dir);
  ca_ = make_ca("kubesim-ca");
  server_cert_ = make_server_cert(ca_, "kubesim", {"127.0.0.1"}, {"localhost"});
  auto defer = [io = io_.get()](std::function<void()> f) { net::post(*io, std::move(f)); };
  if (options_.simulate_workloads && options_.simulate_cassandra)
    cassandra_ = std::make_unique<cassandra_pods>(
        *io_, static_cast<unsigned>(std::clamp(options_.cassandra_ip_prefix, 0, 255)));
  if (cassandra_) cassandra_->set_probe_time_scale(options_.probe_time_scale);
  for (const auto& name : options_.clusters) {
    auto c = std::make_unique<sim_cluster>();
    c->name = name;
    c->state = std::make_unique<cluster_state>(name, options_.history_limit, defer, ca_.cert_pem);
    create_bootstrap_policy(*c->state);
    c->sa_tokens = std::make_unique<service_account_tokens>(*c->state);
    c->api = std::make_unique<api_server>(
        *io_, *c->state,
        api_server_options{"", options_.bookmark_interval_ms, !options_.insecure_http,
                           c->sa_tokens.get()});
    if (cassandra_) {
      // kubectl exec in the `cassandra` container of a simulated node: nodetool status and
      // cqlsh -e. Any other container has no such executable.
      cassandra_pods* nodes = cassandra_.get();
      c->api->set_exec_runner([nodes, cluster = name](const k8s::json::Value& pod,
                                                      const std::string& container,
                                                      const std::vector<std::string>& command) {
        if (container != "cassandra" || !runs_cassandra(pod)) return not_executable(command);
        const std::string ns(k8s::json::get_string(pod, {"metadata", "namespace"}));
        const std::string pod_name(k8s::json::get_string(pod, {"metadata", "name"}));
        cassandra_commands node;
        node.nodetool_status = [&] { return nodes->nodetool_status(cluster, ns, pod_name); };
        node.cqlsh = [&](const std::string& statement) -> std::optional<exec_outcome> {
          auto r = nodes->cqlsh(cluster, ns, pod_name, statement);
          if (!r) return std::nullopt;
          return exec_outcome{"", r->stderr_text, r->exit_code};
        };
        return run_cassandra_command(command, node);
      });
    }
    c->token = random_token();
    c->api->set_tokens({c->token});
    k8s::http::listener_options lo;
    if (!options_.insecure_http)
      lo.tls = k8s::http::tls_config{server_cert_.cert_pem, server_cert_.key_pem, ca_.cert_pem};
    api_server* api = c->api.get();
    c->listener = std::make_unique<k8s::http::listener>(
        *io_, lo, [api](std::shared_ptr<exchange> ex) { api->handle(std::move(ex)); });
    c->listener->open();
    c->api->set_address(fmt::format("127.0.0.1:{}", c->listener->port()));
    if (options_.simulate_workloads) {
      if (cassandra_) cassandra_->add_cluster(*c->state);
      c->workloads = std::make_unique<workload_simulator>(
          *io_, *c->state, options_.pod_ready_delay_ms, cassandra_.get());
      c->workloads->start();
    }
    c->casskop = std::make_unique<casskop_standin>(
        *io_, *c->state,
        casskop_options{options_.simulate_casskop, options_.casskop_delay_ms,
                        options_.casskop_flavor, options_.casskop_time_scale});
    c->casskop->start();
    // kube-controller-manager's disruption controller runs on every real cluster.
    c->disruption = std::make_unique<disruption_controller>(*io_, *c->state);
    c->disruption->start();
    c->auth = std::make_unique<auth_controllers>(*io_, *c->state, *c->sa_tokens, ca_.cert_pem);
    c->auth->start();
    clusters_.push_back(std::move(c));
  }
  for (auto& c : clusters_) write_files(*c);
  if (cassandra_) cassandra_->start();

  control_token_ = random_token();
  control_ = std::make_unique<k8s::http::listener>(
      *io_, k8s::http::listener_options{},
      [this](std::shared_ptr<exchange> ex) { handle_control(ex); });
  control_->open();
  write_secret_file(options_.state_dir / "control" / "token", control_token_);
  write_secret_file(options_.state_dir / "control" / "url", control_->url());

  for (int i = 0; i < std::max(1, options_.threads); ++i)
    threads_.emplace_back([this] { io_->run(); });
}

void simulator::run() {
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void simulator::stop() {
  if (io_->stopped()) return;
  for (auto& c : clusters_) {
    if (c->workloads) c->workloads->stop();
    if (c->casskop) c->casskop->stop();
    if (c->disruption) c->disruption->stop();
    if (c->auth) c->auth->stop();
    c->api->close_watches();
    c->listener->close();
  }
  if (cassandra_) cassandra_->stop();
  if (control_) control_->close();
  io_->stop();
}

std::string simulator::control_url() const {
  return control_ ? control_->url() : "";
}

sim_cluster* simulator::find(const std::string& name) {
  for (auto& c : clusters_)
    if (c->name == name) return c.get();
  return nullptr;
}

void simulator::write_files(sim_cluster& c) {
  cluster_access access;
  access.name = c.name;
  access.server_url = c.listener->url();
  access.ca_pem = options_.insecure_http ? "" : ca_.cert_pem;
  access.token = c.token;
  if (!options_.insecure_http) {
    auto client = make_client_cert(ca_, "kubesim-admin", {"system:masters"});
    access.client_cert_pem = client.cert_pem;
    access.client_key_pem = client.key_pem;
  }
  write_cluster_files(options_.state_dir, access);
}

void simulator::set_reachable(sim_cluster& c, bool reachable) {
  if (reachable)
    c.listener->open();
  else
    c.listener->close();
}

void simulator::rotate_token(sim_cluster& c, bool keep_old) {
  c.previous_token = keep_old ? c.token : "";
  c.token = random_token();
  std::set<std::string> tokens{c.token};
  if (keep_old) tokens.insert(c.previous_token);
  c.api->set_tokens(tokens);
  write_files(c);
}

// The control API: POST /clusters/{name}/{action}?params, GET /clusters.
void simulator::handle_control(const std::shared_ptr<exchange>& ex) {
  const auto& r = ex->req();
  if (r.header("Authorization") != "Bearer " + control_token_)
    return ex->reply(control_error(401, "missing or wrong control token"));
  auto cluster_json = [](sim_cluster& c) {
    auto f = c.api->faults();
    return fmt::format(
        R"({{"name":"{}","url":"{}","reachable":{},"latencyMs":{},"errorRate":{},"errorCode":{},"openWatches":{},"resourceVersion":{},"casskop":{{"enabled":{},"delayMs":{},"flavor":"{}","timeScale":{}}}}})",
        c.name, c.listener->url(), c.listener->is_open(), f.latency_ms, f.error_rate, f.error_code,
        c.api->open_watches(), c.state->current_rv(), c.casskop->enabled(), c.casskop->delay_ms(),
        c.casskop->flavor(), c.casskop->time_scale());
  };
  if (r.method == "GET" && r.path == "/clusters") {
    std::string items;
    for (auto& c : clusters_) items += (items.empty() ? "" : ",") + cluster_json(*c);
    return ex->reply(json_reply(200, "[" + items + "]"));
  }
  constexpr std::string_view prefix = "/clusters/";
  if (r.path.rfind(prefix, 0) != 0) return ex->reply(control_error(404, "unknown path"));
  auto rest = r.path.substr(prefix.size());
  auto slash = rest.find('/');
  std::string name = rest.substr(0, slash);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  sim_cluster* c = find(name);
  if (!c) return ex->reply(control_error(404, "unknown cluster " + name));
  if (action.empty() && r.method == "GET") return ex->reply(json_reply(200, cluster_json(*c)));
  if (r.method != "POST") return ex->reply(control_error(405, "use POST"));
  if (action.rfind("cassandra/", 0) == 0)
    return handle_cassandra_control(ex, *c, action.substr(std::string_view("cassandra/").size()));
  auto param = [&](std::string_view key, const std::string& fallback) {
    const std::string* v = r.query_param(key);
    return v ? *v : fallback;
  };
  try {
    auto f = c->api->faults();
    if (action == "unreachable") {
      set_reachable(*c, false);
    } else if (action == "reachable") {
      set_reachable(*c, true);
    } else if (action == "latency") {
      f.latency_ms = parse_int("ms", param("ms", "0"), 0);
      c->api->set_faults(f);
    } else if (action == "errors") {
      f.error_rate = parse_fraction("rate", param("rate", "0"));
      f.error_code = parse_int("code", param("code", "500"), 0);
      f.retry_after_seconds = parse_int("retryAfter", param("retryAfter", "1"), 1);
      if (f.error_code != 500 && f.error_code != 429)
        return ex->reply(control_error(400, "code must be 500 or 429"));
      c->api->set_faults(f);
    } else if (action == "close-watches") {
      c->api->close_watches();
    } else if (action == "expire-next-watch") {
      f.expire_next_watch = true;
      c->api->set_faults(f);
    } else if (action == "compact") {
      c->state->compact();
    } else if (action == "rotate-token") {
      rotate_token(*c, param("keepOld", "false") == "true");
    } else if (action == "reset") {
      c->api->set_faults({});
      set_reachable(*c, true);
    } else if (action == "workloads") {
      if (!c->workloads)
        return ex->reply(control_error(409, "kubesim runs without --simulate-workloads"));
      c->workloads->set_ready_delay_ms(parse_int("readyDelayMs", param("readyDelayMs", "1000"), 0));
    } else if (action == "casskop") {
      // Both optional; everything is checked before anything changes.
      std::string enabled = param("enabled", c->casskop->enabled() ? "true" : "false");
      if (enabled != "true" && enabled != "false")
        return ex->reply(control_error(400, "enabled must be true or false"));
      int delay = parse_int("delayMs", param("delayMs", std::to_string(c->casskop->delay_ms())), 0);
      std::string flavor = param("flavor", c->casskop->flavor());
      if (flavor != kOriginalFlavor && flavor != kObservedGenerationFlavor)
        return ex->reply(control_error(400, fmt::format("flavor must be {} or {}", kOriginalFlavor,
                                                        kObservedGenerationFlavor)));
      double scale = c->casskop->time_scale();
      if (auto s = param("timeScale", ""); !s.empty()) scale = parse_scale("timeScale", s);
      c->casskop->set_delay_ms(delay);
      c->casskop->set_time_scale(scale);
      c->casskop->set_flavor(flavor);
      c->casskop->set_enabled(enabled == "true");
    } else {
      return ex->reply(control_error(404, "unknown action " + action));
    }
  } catch (const std::exception& e) {
    return ex->reply(control_error(400, e.what()));
  }
  ex->reply(json_reply(200, cluster_json(*c)));
}

}  // namespace kubesim

namespace kubesim {

// The simulated Cassandra nodes of a cluster's pods (issue 13): `nodetool status` and
// `cqlsh -e` as a shell in the pod would print them, and the faults of the reference's §6.
void simulator::handle_cassandra_control(const std::shared_ptr<exchange>& ex, sim_cluster& c,
                                         const std::string& what) {
  const auto& r = ex->req();
  if (!cassandra_)
    return ex->reply(control_error(
        409, "kubesim runs without --simulate-workloads or with --simulate-cassandra=false"));
  auto param = [&](std::string_view key) -> std::optional<std::string> {
    const std::string* v = r.query_param(key);
    return v ? std::optional<std::string>(*v) : std::nullopt;
  };
  const std::string ns = param("namespace").value_or("default");
  const std::string pod = param("pod").value_or("");
  if (what == "pods") return ex->reply(json_reply(200, cassandra_->list(c.name)));
  if (pod.empty() && what != "speeds") return ex->reply(control_error(400, "pod is required"));
  auto no_pod = [&] {
    return control_error(
        404, fmt::format("no running Cassandra node in pod {}/{} of cluster {}", ns, pod, c.name));
  };
  auto text = [](int status, std::string body, int exit_code) {
    return response{status,
                    "text/plain; charset=utf-8",
                    std::move(body),
                    {{"X-Exit-Code", std::to_string(exit_code)}}};
  };
  try {
    if (what == "nodetool-status") {
      auto out = cassandra_->nodetool_status(c.name, ns, pod);
      return ex->reply(out ? text(200, *out, 0) : no_pod());
    }
    if (what == "cqlsh") {
      auto statement = param("e");
      if (!statement) return ex->reply(control_error(400, "e (the CQL statement) is required"));
      auto out = cassandra_->cqlsh(c.name, ns, pod, *statement);
      return ex->reply(out ? text(200, out->stderr_text, out->exit_code) : no_pod());
    }
    if (what == "speeds") {
      // Each given duration replaces the current one; the reply lists them all.
      auto s = cassandra_->speeds();
      std::pair<const char*, cassandra::Millis*> fields[] = {
          {"startupMs", &s.startup},
          {"ringDelayMs", &s.ring_delay},
          {"bootstrapStreamingMs", &s.bootstrap_streaming},
          {"decommissionStreamingMs", &s.decommission_streaming},
          {"cleanupPerKeyspaceMs", &s.cleanup_per_keyspace},
          {"upgradePerKeyspaceMs", &s.upgrade_per_keyspace},
          {"rebuildStreamingMs", &s.rebuild_streaming},
          {"removeStreamingMs", &s.remove_streaming}};
      for (auto& [key, field] : fields)
        if (auto v = param(key)) *field = cassandra::Millis(parse_int(key, *v, 0));
      // Checked before anything changes, as the durations are.
      double probe_scale = cassandra_->probe_time_scale();
      if (auto v = param("probeTimeScale")) probe_scale = parse_scale("probeTimeScale", *v);
      cassandra_->set_speeds(s);
      cassandra_->set_probe_time_scale(probe_scale);
      std::string body;
      for (auto& [key, field] : fields)
        body += fmt::format("{}\"{}\":{}", body.empty() ? "{" : ",", key, field->count());
      return ex->reply(
          json_reply(200, fmt::format("{},\"probeTimeScale\":{}}}", body, probe_scale)));
    }
    if (what == "faults") {
      auto flag = [&](std::string_view key) -> std::optional<bool> {
        auto v = param(key);
        if (!v) return std::nullopt;
        if (*v != "true" && *v != "false")
          throw std::invalid_argument(fmt::format("{} must be true or false", key));
        return *v == "true";
      };
      // The faults named change, the others stay; reset=true clears them all first.
      auto current = cassandra_->faults(c.name, ns, pod);
      if (!current) return ex->reply(no_pod());
      const bool reset = flag("reset").value_or(false);
      cassandra_pod_faults f;
      f.down = flag("down");
      cassandra::NodeFaults nf = reset ? cassandra::NodeFaults{} : *current->node;
      bool node_set = reset;
      auto node_flag = [&](std::string_view key, bool& field) {
        if (auto b = flag(key)) field = *b, node_set = true;
      };
      node_flag("decommissionStuck", nf.decommission_stuck);
      node_flag("decommissionIgnored", nf.decommission_ignored);
      node_flag("joiningStuck", nf.joining_stuck);
      node_flag("exitWhenDecommissioned", nf.exit_when_decommissioned);
      if (auto v = param("decommissionRefused")) nf.decommission_refused = *v, node_set = true;
      node_flag("mbeanMissing", nf.mbean_missing);
      node_flag("removeNodeHang", nf.remove_node_hang);
      node_flag("decommissionFails", nf.decommission_fails);
      if (auto v = param("crashAtStart")) nf.crash_at_start = *v, node_set = true;
      if (auto v = param("removeNodeRefused")) nf.remove_node_refused = *v, node_set = true;
      if (auto v = param("describeRingError")) nf.describe_ring_error = *v, node_set = true;
      // IP reuse: an address of 127.0.0.0/8 (the pod IPs' range), or another pod's IP.
      f.next_ip = param("nextIp");
      if (f.next_ip && !f.next_ip->empty() && !is_loopback_v4(*f.next_ip))
        throw std::invalid_argument("nextIp must be an IPv4 address in 127.0.0.0/8 (or empty)");
      f.next_ip_of = param("nextIpOf");
      if (f.next_ip && f.next_ip_of)
        throw std::invalid_argument("give nextIp or nextIpOf, not both");
      if (node_set) f.node = nf;
      cassandra::JolokiaFaults jf = reset ? cassandra::JolokiaFaults{} : *current->jolokia;
      bool jolokia_set = reset;
      auto jolokia_flag = [&](std::string_view key, bool& field) {
        if (auto b = flag(key)) field = *b, jolokia_set = true;
      };
      jolokia_flag("jolokiaHang", jf.hang);
      jolokia_flag("malformedJson", jf.malformed_json);
      jolokia_flag("valueWrongType", jf.value_wrong_type);
      jolokia_flag("timestampMillis", jf.timestamp_millis);
      if (auto v = param("jolokiaDelayMs"))
        jf.delay = cassandra::Millis(parse_int("jolokiaDelayMs", *v, 0)), jolokia_set = true;
      if (auto v = param("httpStatus"))
        jf.http_status = parse_int("httpStatus", *v, 0), jolokia_set = true;
      if (jolokia_set) f.jolokia = jf;
      auto out = cassandra_->set_faults(c.name, ns, pod, f);
      return ex->reply(out ? json_reply(200, *out) : no_pod());
    }
  } catch (const std::exception& e) {
    return ex->reply(control_error(400, e.what()));
  }
  ex->reply(control_error(404, "unknown action cassandra/" + what));
}

}  // namespace kubesim
