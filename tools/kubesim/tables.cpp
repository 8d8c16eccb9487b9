// Table output, following kube-apiserver: pkg/printers/internalversion/printers.go for the
// built-ins (always "wide": the server sends every column, kubectl hides priority > 0), the
// apiextensions table convertor for custom resources, and the generic default convertor
// (Name, Created At) for everything else.
#include "tools/kubesim/tables.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "k8s/base/timestamps.h"
#include "tools/kubesim/jsonpath.h"

namespace kubesim {
namespace {

using k8s::json::Allocator;
using k8s::json::find;
using k8s::json::find_path;
using k8s::json::get_int;
using k8s::json::get_string;
using k8s::json::Value;
using k8s::json::view;
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// The real descriptions of the two metadata columns (ObjectMeta swagger docs).
constexpr const char* kNameDoc =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
constexpr const char* kCreatedDoc =
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by "
    "the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";

struct column_def {
  std::string name;
  std::string type;
  std::string description;
  int priority = 0;
  std::string format;
};

column_def name_column() {
  return {"Name", "string", kNameDoc, 0, "name"};
}
column_def age_column() {
  return {"Age", "string", kCreatedDoc, 0, ""};
}
column_def created_at_column() {
  return {"Created At", "date", kCreatedDoc, 0, ""};
}

// A metav1.Time field; nullopt when unset (translateTimestampSince's "<unknown>") or unreadable.
// Whole seconds: the real server reads objects back from storage, where the fraction is gone.
std::optional<table_clock::time_point> time_of(std::string_view text) {
  const auto t = k8s::parse_rfc3339(text);
  if (!t || t->is_zero()) return std::nullopt;
  return table_clock::time_point(std::chrono::seconds(t->seconds));
}

// One row's cells (and row conditions), allocated in the table's scratch document.
class row_builder {
 public:
  row_builder(Allocator& a, table_clock::time_point now)
      : a_(a), now_(now), cells_(rapidjson::kArrayType) {}

  void text(std::string_view s) { cells_.PushBack(k8s::json::string_value(s, a_), a_); }
  void number(long long n) { cells_.PushBack(Value(static_cast<int64_t>(n)), a_); }
  void null() { cells_.PushBack(Value(), a_); }
  void value(Value v) { cells_.PushBack(v, a_); }
  void name(const Value& obj) { text(get_string(obj, {"metadata", "name"})); }
  void age(const Value& obj) { text(since(get_string(obj, {"metadata", "creationTimestamp"}))); }
  // The default convertor prints the timestamp itself (type date).
  void created_at(const Value& obj) { text(get_string(obj, {"metadata", "creationTimestamp"})); }
  // translateTimestampSince: "<unknown>" for an unset time.
  std::string since(std::string_view ts) const {
    const auto t = time_of(ts);
    return t ? human_duration(now_ - *t) : "<unknown>";
  }
  // A "Completed" row condition, as the pod printer sets for terminal phases.
  void completed(std::string_view reason, std::string_view message) {
    Value c(rapidjson::kObjectType);
    k8s::json::set_string(c, "type", "Completed", a_);
    k8s::json::set_string(c, "status", "True", a_);
    k8s::json::set_string(c, "reason", reason, a_);
    k8s::json::set_string(c, "message", message, a_);
    conditions_.SetArray();
    conditions_.PushBack(c, a_);
  }
  Allocator& allocator() { return a_; }
  table_clock::time_point now() const { return now_; }
  const Value& cells() const { return cells_; }
  const Value& conditions() const { return conditions_; }

 private:
  Allocator& a_;
  table_clock::time_point now_;
  Value cells_;
  Value conditions_;  // null unless set
};

using cells_fn = std::function<void(const Value& obj, row_builder& row)>;

struct printer {
  std::vector<column_def> columns;
  cells_fn cells;
};

// ---- small readers over the stored JSON ----

const Value& empty_value() {
  static const Value v;
  return v;
}
const Value& at(const Value& obj, std::initializer_list<std::string_view> path) {
  const Value* v = find_path(obj, path);
  return v ? *v : empty_value();
}
std::string str(const Value& obj, std::initializer_list<std::string_view> path,
                std::string_view fallback = {}) {
  return std::string(get_string(obj, path, fallback));
}
long long size_of(const Value& v) {
  if (v.IsObject()) return v.MemberCount();
  if (v.IsArray()) return v.Size();
  return 0;
}
// An IntOrString field as kubectl shows it.
std::string int_or_string(const Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsString()) return std::string(view(v));
  return "";
}
std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
bool has_condition(const Value& status, std::string_view type, std::string_view state) {
  const Value& conds = at(status, {"conditions"});
  if (!conds.IsArray()) return false;
  for (const auto& c : conds.GetArray()) {
    if (get_string(c, "type") == type && get_string(c, "status") == state) return true;
  }
  return false;
}
bool is_deleting(const Value& obj) {
  return !get_string(obj, {"metadata", "deletionTimestamp"}).empty();
}
// labels.FormatLabels: sorted k=v pairs, "<none>" when empty.
std::string format_labels(const Value& map) {
  std::vector<std::string> parts;
  if (map.IsObject()) {
    for (const auto& m : map.GetObject()) {
      parts.push_back(std::string(view(m.name)) + "=" + std::string(view(m.value)));
    }
  }
  std::sort(parts.begin(), parts.end());
  return parts.empty() ? "<none>" : join(parts, ",");
}
// metav1.LabelSelectorAsSelector(s).String(): requirements sorted by key.
std::string format_label_selector(const Value& sel) {
  std::vector<std::pair<std::string, std::string>> reqs;
  const Value& labels = at(sel, {"matchLabels"});
  if (labels.IsObject()) {
    for (const auto& m : labels.GetObject()) {
      reqs.emplace_back(std::string(view(m.name)),
                        std::string(view(m.name)) + "=" + std::string(view(m.value)));
    }
  }
  const Value& exprs = at(sel, {"matchExpressions"});
  if (exprs.IsArray()) {
    for (const auto& e : exprs.GetArray()) {
      std::string key(get_string(e, "key"));
      std::string op(get_string(e, "operator"));
      std::vector<std::string> values;
      const Value& vs = at(e, {"values"});
      if (vs.IsArray()) {
        for (const auto& v : vs.GetArray()) values.emplace_back(view(v));
      }
      std::sort(values.begin(), values.end());
      if (op == "In") reqs.emplace_back(key, key + " in (" + join(values, ",") + ")");
      if (op == "NotIn") reqs.emplace_back(key, key + " notin (" + join(values, ",") + ")");
      if (op == "Exists") reqs.emplace_back(key, key);
      if (op == "DoesNotExist") reqs.emplace_back(key, "!" + key);
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> parts;
  for (auto& r : reqs) parts.push_back(std::move(r.second));
  return join(parts, ",");
}
// layoutContainerCells: comma-joined container names and images.
std::pair<std::string, std::string> container_cells(const Value& containers) {
  std::vector<std::string> names, images;
  if (containers.IsArray()) {
    for (const auto& c : containers.GetArray()) {
      names.emplace_back(get_string(c, "name"));
      images.emplace_back(get_string(c, "image"));
    }
  }
  return {join(names, ","), join(images, ",")};
}

// ---- built-in printers ----

void namespace_cells(const Value& o, row_builder& r) {
  r.name(o);
  r.text(str(o, {"status", "phase"}, "Active"));  // the server defaults the phase
  r.age(o);
}

void config_map_cells(const Value& o, row_builder& r) {
  r.name(o);
  r.number(size_of(at(o, {"data"})) + size_of(at(o, {"binaryData"})));
  r.age(o);
}

void secret_cells(const Value& o, row_builder& r) {
  // The real server folds stringData into data on write; count both in case it was not.
  std::set<std::string> keys;
  for (auto field : {"data", "stringData"}) {
    const Value& m = at(o, {field});
    if (m.IsObject()) {
      for (const auto& kv : m.GetObject()) keys.emplace(view(kv.name));
    }
  }
  r.name(o);
  r.text(str(o, {"type"}, "Opaque"));
  r.number(static_cast<long long>(keys.size()));
  r.age(o);
}

void service_account_cells(const Value& o, row_builder& r) {
  r.name(o);
  r.number(size_of(at(o, {"secrets"})));
  r.age(o);
}

// formatEndpoints of kubectl's printers: ip:port of every address and port, three at most.
void endpoints_cells(const Value& o, row_builder& r) {
  std::vector<std::string> all;
  const Value& subsets = at(o, {"subsets"});
  if (subsets.IsArray())
    for (const auto& ss : subsets.GetArray()) {
      const Value& ports = at(ss, {"ports"});
      const Value& addresses = at(ss, {"addresses"});
      if (!addresses.IsArray()) continue;
      for (const auto& a : addresses.GetArray()) {
        if (!ports.IsArray() || ports.Empty())
          all.push_back(str(a, {"ip"}));
        else
          for (const auto& p : ports.GetArray())
            all.push_back(fmt::format("{}:{}", str(a, {"ip"}), get_int(p, {"port"}, 0)));
      }
    }
  std::string text;
  for (size_t i = 0; i < all.size() && i < 3; ++i) text += (i ? "," : "") + all[i];
  if (all.size() > 3) text += fmt::format(" + {} more...", all.size() - 3);
  r.name(o);
  r.text(all.empty() ? "<none>" : text);
  r.age(o);
}

std::string service_ports(const Value& ports) {
  std::vector<std::string> parts;
  if (ports.IsArray()) {
    for (const auto& p : ports.GetArray()) {
      std::string protocol(get_string(p, "protocol", "TCP"));
      std::string port = std::to_string(get_int(p, {"port"}, 0));
      long long node_port = get_int(p, {"nodePort"}, 0);
      if (node_port > 0) port += ":" + std::to_string(node_port);
      parts.push_back(port + "/" + protocol);
    }
  }
  return parts.empty() ? "<none>" : join(parts, ",");
}

std::vector<std::string> strings_of(const Value& arr) {
  std::vector<std::string> out;
  if (arr.IsArray()) {
    for (const auto& v : arr.GetArray()) out.emplace_back(view(v));
  }
  return out;
}

// getServiceExternalIP.
std::string service_external_ip(const Value& o, const std::string& type) {
  std::vector<std::string> external = strings_of(at(o, {"spec", "externalIPs"}));
  if (type == "ClusterIP" || type == "NodePort") {
    return external.empty() ? "<none>" : join(external, ",");
  }
  if (type == "LoadBalancer") {
    std::vector<std::string> ips;
    const Value& ingress = at(o, {"status", "loadBalancer", "ingress"});
    if (ingress.IsArray()) {
      for (const auto& i : ingress.GetArray()) {
        std::string_view ip = get_string(i, "ip");
        if (ip.empty()) ip = get_string(i, "hostname");
        if (!ip.empty()) ips.emplace_back(ip);
      }
    }
    ips.insert(ips.end(), external.begin(), external.end());
    return ips.empty() ? "<pending>" : join(ips, ",");
  }
  if (type == "ExternalName") return str(o, {"spec", "externalName"});
  return "<unknown>";
}

void service_cells(const Value& o, row_builder& r) {
  std::string type = str(o, {"spec", "type"}, "ClusterIP");
  const Value& ips = at(o, {"spec", "clusterIPs"});
  std::string cluster_ip =
      ips.IsArray() && !ips.Empty() ? std::string(view(ips[0])) : str(o, {"spec", "clusterIP"});
  r.name(o);
  r.text(type);
  r.text(cluster_ip.empty() ? "<none>" : cluster_ip);
  r.text(service_external_ip(o, type));
  r.text(service_ports(at(o, {"spec", "ports"})));
  r.age(o);
  r.text(format_labels(at(o, {"spec", "selector"})));
}

bool is_restartable_init(const Value& spec, std::string_view name) {
  const Value& inits = at(spec, {"initContainers"});
  if (!inits.IsArray()) return false;
  for (const auto& c : inits.GetArray()) {
    if (get_string(c, "name") == name) return get_string(c, "restartPolicy") == "Always";
  }
  return false;
}

// Keeps the latest lastState.terminated.finishedAt, for "N (5m ago)".
void note_last_restart(const Value& status, table_clock::time_point& latest) {
  const auto t = time_of(get_string(status, {"lastState", "terminated", "finishedAt"}));
  if (t && *t > latest) latest = *t;
}

// printPod: Ready, Status (the "reason" kubectl is known for), Restarts, plus the wide columns.
void pod_cells(const Value& o, row_builder& r) {
  const Value& spec = at(o, {"spec"});
  const Value& status = at(o, {"status"});
  // Pod creation sets phase Pending; a pod nobody has run yet stays there.
  std::string phase = str(status, {"phase"}, "Pending");
  std::string reason = str(status, {"reason"}, phase);
  const Value& conditions = at(status, {"conditions"});
  if (conditions.IsArray()) {
    for (const auto& c : conditions.GetArray()) {
      if (get_string(c, "type") == "PodScheduled" && get_string(c, "reason") == "SchedulingGated") {
        reason = "SchedulingGated";
      }
    }
  }
  if (phase == "Succeeded") r.completed("Succeeded", "The pod has completed successfully.");
  if (phase == "Failed") r.completed("Failed", "The pod failed.");

  long long total = size_of(at(spec, {"containers"}));
  const Value& inits = at(spec, {"initContainers"});
  if (inits.IsArray()) {
    for (const auto& c : inits.GetArray()) total += get_string(c, "restartPolicy") == "Always";
  }
  long long ready = 0, restarts = 0, restartable_restarts = 0;
  table_clock::time_point last_restart{}, last_restartable_restart{};

  bool initializing = false;
  const Value& init_statuses = at(status, {"initContainerStatuses"});
  long long init_count = size_of(inits);
  if (init_statuses.IsArray()) {
    long long i = 0;
    for (const auto& c : init_statuses.GetArray()) {
      long long count = get_int(c, {"restartCount"}, 0);
      restarts += count;
      note_last_restart(c, last_restart);
      bool restartable = is_restartable_init(spec, get_string(c, "name"));
      if (restartable) {
        restartable_restarts += count;
        note_last_restart(c, last_restartable_restart);
      }
      const Value* terminated = find_path(c, {"state", "terminated"});
      std::string_view waiting = get_string(c, {"state", "waiting", "reason"});
      if (terminated && get_int(*terminated, {"exitCode"}, 0) == 0) {
        ++i;
        continue;
      }
      if (restartable && k8s::json::get_bool(c, {"started"}, false)) {
        ready += k8s::json::get_bool(c, {"ready"}, false);
        ++i;
        continue;
      }
      if (terminated) {
        std::string_view why = get_string(*terminated, "reason");
        long long signal = get_int(*terminated, {"signal"}, 0);
        if (!why.empty()) {
          reason = "Init:" + std::string(why);
        } else if (signal != 0) {
          reason = "Init:Signal:" + std::to_string(signal);
        } else {
          reason = "Init:ExitCode:" + std::to_string(get_int(*terminated, {"exitCode"}, 0));
        }
      } else if (!waiting.empty() && waiting != "PodInitializing") {
        reason = "Init:" + std::string(waiting);
      } else {
        reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_count);
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || has_condition(status, "Initialized", "True")) {
    restarts = restartable_restarts;
    last_restart = last_restartable_restart;
    bool has_running = false;
    const Value& statuses = at(status, {"containerStatuses"});
    if (statuses.IsArray()) {
      // Backwards, as printPod does: the first container's state wins the Status column.
      for (auto i = statuses.Size(); i-- > 0;) {
        const Value& c = statuses[i];
        restarts += get_int(c, {"restartCount"}, 0);
        note_last_restart(c, last_restart);
        std::string_view waiting = get_string(c, {"state", "waiting", "reason"});
        const Value* terminated = find_path(c, {"state", "terminated"});
        if (!waiting.empty()) {
          reason = std::string(waiting);
        } else if (terminated && !get_string(*terminated, "reason").empty()) {
          reason = std::string(get_string(*terminated, "reason"));
        } else if (terminated) {
          long long signal = get_int(*terminated, {"signal"}, 0);
          reason = signal != 0
                       ? "Signal:" + std::to_string(signal)
                       : "ExitCode:" + std::to_string(get_int(*terminated, {"exitCode"}, 0));
        } else if (k8s::json::get_bool(c, {"ready"}, false) && find_path(c, {"state", "running"})) {
          has_running = true;
          ++ready;
        }
      }
    }
    if (reason == "Completed" && has_running) {
      reason = has_condition(status, "Ready", "True") ? "Running" : "NotReady";
    }
  }

  bool deleting = is_deleting(o);
  if (deleting && get_string(status, "reason") == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restarts_text = std::to_string(restarts);
  if (restarts != 0 && last_restart != table_clock::time_point{}) {
    restarts_text += " (" + human_duration(r.now() - last_restart) + " ago)";
  }

  r.name(o);
  r.text(std::to_string(ready) + "/" + std::to_string(total));
  r.text(reason);
  r.text(restarts_text);
  r.age(o);

  std::string ip;
  const Value& ips = at(status, {"podIPs"});
  if (ips.IsArray() && !ips.Empty()) ip = get_string(ips[0], "ip");
  if (ip.empty()) ip = str(status, {"podIP"});
  std::string node = str(spec, {"nodeName"});
  std::string nominated = str(status, {"nominatedNodeName"});
  std::string gates = "<none>";
  const Value& readiness_gates = at(spec, {"readinessGates"});
  if (size_of(readiness_gates) > 0) {
    long long satisfied = 0;
    for (const auto& g : readiness_gates.GetArray()) {
      satisfied += has_condition(status, get_string(g, "conditionType"), "True");
    }
    gates = std::to_string(satisfied) + "/" + std::to_string(readiness_gates.Size());
  }
  r.text(ip.empty() ? "<none>" : ip);
  r.text(node.empty() ? "<none>" : node);
  r.text(nominated.empty() ? "<none>" : nominated);
  r.text(gates);
}

// helper.GetAccessModesAsString: fixed order, short names.
std::string access_modes(const Value& modes) {
  std::vector<std::string> have = strings_of(modes);
  std::vector<std::string> out;
  for (auto [mode, short_name] :
       {std::pair{"ReadWriteOnce", "RWO"}, std::pair{"ReadOnlyMany", "ROX"},
        std::pair{"ReadWriteMany", "RWX"}, std::pair{"ReadWriteOncePod", "RWOP"}}) {
    if (std::find(have.begin(), have.end(), mode) != have.end()) out.emplace_back(short_name);
  }
  return join(out, ",");
}

void pvc_cells(const Value& o, row_builder& r) {
  std::string phase = str(o, {"status", "phase"}, "Pending");
  if (is_deleting(o)) phase = "Terminating";
  std::string volume = str(o, {"spec", "volumeName"});
  std::string capacity, modes;
  if (!volume.empty()) {
    modes = access_modes(at(o, {"status", "accessModes"}));
    capacity = str(o, {"status", "capacity", "storage"});
  }
  std::string storage_class =
      str(o, {"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"},
          get_string(o, {"spec", "storageClassName"}));
  r.name(o);
  r.text(phase);
  r.text(volume);
  r.text(capacity);
  r.text(modes);
  r.text(storage_class);
  r.text(str(o, {"spec", "volumeAttributesClassName"}, "<unset>"));
  r.age(o);
  r.text(str(o, {"spec", "volumeMode"}, "<unset>"));
}

std::string ready_of(const Value& o) {
  return std::to_string(get_int(o, {"status", "readyReplicas"}, 0)) + "/" +
         std::to_string(get_int(o, {"spec", "replicas"}, 1));  // replicas defaults to 1
}

void stateful_set_cells(const Value& o, row_builder& r) {
  auto [names, images] = container_cells(at(o, {"spec", "template", "spec", "containers"}));
  r.name(o);
  r.text(ready_of(o));
  r.age(o);
  r.text(names);
  r.text(images);
}

void deployment_cells(const Value& o, row_builder& r) {
  auto [names, images] = container_cells(at(o, {"spec", "template", "spec", "containers"}));
  r.name(o);
  r.text(ready_of(o));
  r.number(get_int(o, {"status", "updatedReplicas"}, 0));
  r.number(get_int(o, {"status", "availableReplicas"}, 0));
  r.age(o);
  r.text(names);
  r.text(images);
  r.text(format_label_selector(at(o, {"spec", "selector"})));
}

void pdb_cells(const Value& o, row_builder& r) {
  const Value* min = find_path(o, {"spec", "minAvailable"});
  const Value* max = find_path(o, {"spec", "maxUnavailable"});
  r.name(o);
  r.text(min && !min->IsNull() ? int_or_string(*min) : "N/A");
  r.text(max && !max->IsNull() ? int_or_string(*max) : "N/A");
  r.number(get_int(o, {"status", "disruptionsAllowed"}, 0));
  r.age(o);
}

// The field names of an Event in core/v1 or, renamed, in events.k8s.io/v1.
struct event_fields {
  const char* first;
  const char* last;
  const char* count;
  const char* object;
  const char* message;
  const char* source;
};
constexpr event_fields kCoreEvent{"firstTimestamp", "lastTimestamp", "count",
                                  "involvedObject", "message",       "source"};
constexpr event_fields kEventsEvent{
    "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount", "regarding", "note",
    "deprecatedSource"};

std::string trim(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

// printEvent, both API versions (the server converts both to the same internal type).
void event_cells(const Value& o, row_builder& r, const event_fields& f) {
  std::string first = get_string(o, f.first).empty() ? r.since(get_string(o, "eventTime"))
                                                     : r.since(get_string(o, f.first));
  std::string last = get_string(o, f.last).empty() ? first : r.since(get_string(o, f.last));
  long long count = get_int(o, {f.count}, 0);
  if (const Value* series = find(o, "series"); series && series->IsObject()) {
    last = r.since(get_string(*series, "lastObservedTime"));
    count = get_int(*series, {"count"}, 0);
  } else if (count == 0) {
    count = 1;  // singleton events have no count in the new API
  }
  const Value& involved = at(o, {f.object});
  std::string target = lower(str(involved, {"kind"}));
  if (!get_string(involved, "name").empty()) target += "/" + str(involved, {"name"});
  std::string component(get_string(o, {f.source, "component"}));
  if (component.empty()) component = get_string(o, "reportingController");
  std::string host(get_string(o, {f.source, "host"}));
  if (host.empty()) host = get_string(o, "reportingInstance");
  std::string source = component.empty() ? "<unknown>"
                       : host.empty()    ? component
                                         : component + ", " + host;
  r.text(last);
  r.text(str(o, {"type"}));
  r.text(str(o, {"reason"}));
  r.text(target);
  r.text(str(involved, {"fieldPath"}));
  r.text(source);
  r.text(trim(get_string(o, f.message)));
  r.text(first);
  r.number(count);
  r.name(o);
}

// printControllerRevision: the controller as "<kind>.<group>/<name>", lowercased kind.group.
void controller_revision_cells(const Value& o, row_builder& r) {
  std::string controller = "<none>";
  if (const Value* refs = find_path(o, {"metadata", "ownerReferences"}); refs && refs->IsArray())
    for (const auto& ref : refs->GetArray()) {
      if (!k8s::json::get_bool(ref, {"controller"}, false)) continue;
      std::string api_version(get_string(ref, "apiVersion"));
      auto slash = api_version.find('/');
      std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
      std::string kind(get_string(ref, "kind"));
      if (!group.empty()) kind += "." + group;
      std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
      controller = kind + "/" + std::string(get_string(ref, "name"));
      break;
    }
  r.name(o);
  r.text(controller);
  r.number(get_int(o, {"revision"}, 0));
  r.age(o);
}

void lease_cells(const Value& o, row_builder& r) {
  r.name(o);
  r.text(str(o, {"spec", "holderIdentity"}));
  r.age(o);
}

void role_binding_cells(const Value& o, row_builder& r) {
  std::vector<std::string> users, groups, service_accounts;
  const Value& subjects = at(o, {"subjects"});
  if (subjects.IsArray()) {
    for (const auto& s : subjects.GetArray()) {
      std::string kind(get_string(s, "kind"));
      std::string name(get_string(s, "name"));
      if (kind == "User") users.push_back(name);
      if (kind == "Group") groups.push_back(name);
      if (kind == "ServiceAccount") service_accounts.push_back(str(s, {"namespace"}) + "/" + name);
    }
  }
  r.name(o);
  r.text(str(o, {"roleRef", "kind"}) + "/" + str(o, {"roleRef", "name"}));
  r.age(o);
  r.text(join(users, ", "));
  r.text(join(groups, ", "));
  r.text(join(service_accounts, ", "));
}

void default_cells(const Value& o, row_builder& r) {
  r.name(o);
  r.created_at(o);
}

column_def col(std::string name, std::string description, int priority = 0,
               std::string type = "string") {
  return {std::move(name), std::move(type), std::move(description), priority, ""};
}

// The built-in printers by "group/Kind".
const std::map<std::string, printer>& builtin_printers() {
  static const std::map<std::string, printer> printers = [] {
    std::map<std::string, printer> p;
    const auto name = name_column();
    const auto age = age_column();
    p["/Namespace"] = {{name, col("Status", "The status of the namespace"), age}, namespace_cells};
    p["/ConfigMap"] = {{name, col("Data", "Data contains the configuration data."), age},
                       config_map_cells};
    p["/Secret"] = {{name, col("Type", "Used to facilitate programmatic handling of secret data."),
                     col("Data", "Data contains the secret data."), age},
                    secret_cells};
    p["/ServiceAccount"] = {
        {name, col("Secrets", "Secrets is a list of the secrets in the same namespace."), age},
        service_account_cells};
    p["/Endpoints"] = {
        {name, col("Endpoints", "Endpoints is the list of endpoints in the object."), age},
        endpoints_cells};
    p["/Service"] = {{name, col("Type", "type determines how the Service is exposed."),
                      col("Cluster-IP", "clusterIP is the IP address of the service."),
                      col("External-IP",
                          "List of IP addresses for which nodes in the cluster "
                          "will also accept traffic for this service."),
                      col("Port(s)", "The list of ports that are exposed by this service."), age,
                      col("Selector",
                          "Route service traffic to pods with label keys and values "
                          "matching this selector.",
                          1)},
                     service_cells};
    p["/Pod"] = {
        {name, col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
         col("Status", "The aggregate status of the containers in this pod."),
         col("Restarts",
             "The number of times the containers in this pod have been restarted "
             "and when the last container in this pod has restarted."),
         age, col("IP", "podIP address allocated to the pod.", 1),
         col("Node", "NodeName is a request to schedule this pod onto a specific node.", 1),
         col("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods.",
             1),
         col("Readiness Gates",
             "If specified, all readiness gates will be evaluated for pod "
             "readiness.",
             1)},
        pod_cells};
    p["/PersistentVolumeClaim"] = {
        {name, col("Status", "phase represents the current phase of PersistentVolumeClaim."),
         col("Volume", "volumeName is the binding reference to the PersistentVolume."),
         col("Capacity", "capacity represents the actual resources of the underlying volume."),
         col("Access Modes",
             "accessModes contains the desired access modes the volume should "
             "have."),
         col("StorageClass",
             "storageClassName is the name of the StorageClass required by the "
             "claim."),
         col("VolumeAttributesClass",
             "volumeAttributesClassName may be used to set the "
             "VolumeAttributesClass used by this claim."),
         age,
         col("VolumeMode", "volumeMode defines what type of volume is required by the claim.", 1)},
        pvc_cells};
    const auto containers = col("Containers", "Names of each container in the template.", 1);
    const auto images = col("Images", "Images referenced by each container in the template.", 1);
    p["apps/ControllerRevision"] = {
        {name, col("Controller", "Controller of the object"),
         col("Revision", "Revision is the revision number", 0, "integer"), age},
        controller_revision_cells};
    p["apps/StatefulSet"] = {
        {name, col("Ready", "Number of the pod with ready state"), age, containers, images},
        stateful_set_cells};
    p["apps/Deployment"] = {
        {name, col("Ready", "Number of the pod with ready state"),
         col("Up-to-date",
             "Total number of non-terminated pods targeted by this deployment that "
             "have the desired template spec.",
             0, "integer"),
         col("Available",
             "Total number of available pods (ready for at least minReadySeconds) "
             "targeted by this deployment.",
             0, "integer"),
         age, containers, images,
         col("Selector",
             "Label selector for pods. Existing ReplicaSets whose pods are selected "
             "by this will be the ones affected by this deployment.",
             1)},
        deployment_cells};
    p["policy/PodDisruptionBudget"] = {
        {name,
         col("Min Available", "The minimum number of pods that must be available simultaneously."),
         col("Max Unavailable",
             "The maximum number of pods that may be unavailable simultaneously."),
         col("Allowed Disruptions", "Number of pod disruptions that are currently allowed.", 0,
             "integer"),
         age},
        pdb_cells};
    std::vector<column_def> event_columns{
        col("Last Seen", "The last time this event was recorded."),
        col("Type",
            "Type of this event (Normal, Warning), new types could be added in the future."),
        col("Reason",
            "This should be a short, machine understandable string that gives the "
            "reason for the transition into the object's current status."),
        col("Object", "The object that this event is about."),
        col("Subobject", "The field of the object this event is about.", 1),
        col("Source", "The component reporting this event.", 1),
        col("Message", "A human-readable description of the status of this operation."),
        col("First Seen", "The time at which the event was first recorded.", 1),
        col("Count", "The number of times this event has occurred.", 1),
        {"Name", "string", kNameDoc, 1, "name"}};
    p["/Event"] = {event_columns,
                   [](const Value& o, row_builder& r) { event_cells(o, r, kCoreEvent); }};
    p["events.k8s.io/Event"] = {
        event_columns, [](const Value& o, row_builder& r) { event_cells(o, r, kEventsEvent); }};
    p["coordination.k8s.io/Lease"] = {{name, col("Holder", "The holder of the lease."), age},
                                      lease_cells};
    const printer role{{name, created_at_column()}, default_cells};
    const printer binding{
        {name, col("Role", "Role to which this binding is bound."), age,
         col("Users", "Users in the binding.", 1), col("Groups", "Groups in the binding.", 1),
         col("ServiceAccounts", "ServiceAccounts in the binding.", 1)},
        role_binding_cells};
    p["rbac.authorization.k8s.io/Role"] = role;
    p["rbac.authorization.k8s.io/ClusterRole"] = role;
    p["rbac.authorization.k8s.io/RoleBinding"] = binding;
    p["rbac.authorization.k8s.io/ClusterRoleBinding"] = binding;
    return p;
  }();
  return printers;
}

// The apiextensions table convertor: Name, then the declared columns, or Age when none are.
printer custom_printer(const resource_type& t) {
  printer p;
  p.columns.push_back(name_column());
  if (t.columns.empty()) {
    p.columns.push_back({"Age", "date", kCreatedDoc, 0, ""});
    p.cells = [](const Value& o, row_builder& r) {
      r.name(o);
      r.age(o);
    };
    return p;
  }
  for (const auto& c : t.columns) {
    std::string description =
        c.description.empty()
            ? "Custom resource definition column (in JSONPath format): " + c.json_path
            : c.description;
    p.columns.push_back({c.name, c.type, description, c.priority, c.format});
  }
  std::vector<printer_column> columns = t.columns;
  p.cells = [columns](const Value& o, row_builder& r) {
    r.name(o);
    for (const auto& c : columns) {
      // printer_cell already turns dates into ages, as the server does.
      try {
        r.value(printer_cell(o, c.json_path, c.type, r.allocator(), r.now()));
      } catch (const jsonpath_error&) {
        r.null();  // the CRD's validation should have refused such a path
      }
    }
  };
  return p;
}

printer printer_for(const resource_type& t) {
  if (t.custom) return custom_printer(t);
  const auto& builtins = builtin_printers();
  auto it = builtins.find(t.group + "/" + t.kind);
  if (it != builtins.end()) return it->second;
  return {{name_column(), created_at_column()}, default_cells};
}

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_columns(json_writer& w, const printer& p) {
  w.Key("columnDefinitions");
  w.StartArray();
  for (const auto& c : p.columns) {
    w.StartObject();
    w.Key("name");
    write_string(w, c.name);
    w.Key("type");
    write_string(w, c.type);
    w.Key("format");
    write_string(w, c.format);
    w.Key("description");
    write_string(w, c.description);
    w.Key("priority");
    w.Int(c.priority);
    w.EndObject();
  }
  w.EndArray();
}

void write_row(json_writer& w, const printer& p, const Value& obj, bool include_object,
               table_clock::time_point now) {
  k8s::json::Document scratch;  // owns this row's cell strings
  row_builder row(scratch.GetAllocator(), now);
  p.cells(obj, row);
  w.StartObject();
  w.Key("cells");
  row.cells().Accept(w);
  if (!row.conditions().IsNull()) {
    w.Key("conditions");
    row.conditions().Accept(w);
  }
  if (include_object) {
    w.Key("object");
    w.StartObject();
    w.Key("kind");
    w.String("PartialObjectMetadata");
    w.Key("apiVersion");
    w.String("meta.k8s.io/v1");
    w.Key("metadata");
    const Value* meta = find(obj, "metadata");
    if (meta && meta->IsObject()) {
      meta->Accept(w);
    } else {
      w.StartObject();
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
}

void write_table_start(json_writer& w, const printer& p, std::string_view resource_version,
                       std::string_view continue_token, long long remaining) {
  w.StartObject();
  w.Key("kind");
  w.String("Table");
  w.Key("apiVersion");
  w.String("meta.k8s.io/v1");
  w.Key("metadata");
  w.StartObject();
  w.Key("resourceVersion");
  write_string(w, resource_version);
  if (!continue_token.empty()) {
    w.Key("continue");
    write_string(w, continue_token);
  }
  if (remaining >= 0) {
    w.Key("remainingItemCount");
    w.Int64(remaining);
  }
  w.EndObject();
  write_columns(w, p);
  w.Key("rows");
  w.StartArray();
}

void write_table_end(json_writer& w) {
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string table_json(const resource_type& t, const std::vector<snapshot_ptr>& items,
                       const std::string& resource_version, const std::string& continue_token,
                       long long remaining_item_count, bool include_object,
                       table_clock::time_point now) {
  const printer p = printer_for(t);
  rapidjson::StringBuffer out;
  json_writer w(out);
  write_table_start(w, p, resource_version, continue_token, remaining_item_count);
  for (const auto& item : items) {
    if (item) write_row(w, p, item->doc, include_object, now);
  }
  write_table_end(w);
  return std::string(out.GetString(), out.GetSize());
}

std::string table_row_json(const resource_type& t, const snapshot& item, bool include_object,
                           table_clock::time_point now) {
  const printer p = printer_for(t);
  rapidjson::StringBuffer out;
  json_writer w(out);
  write_table_start(w, p, get_string(item.doc, {"metadata", "resourceVersion"}), "", -1);
  write_row(w, p, item.doc, include_object, now);
  write_table_end(w);
  return std::string(out.GetString(), out.GetSize());
}

}  // namespace kubesim
