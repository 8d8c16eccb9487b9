#include "k8s/base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "k8s/base/log.h"

namespace k8s::metrics {

namespace {

bool valid_name(const std::string& s, bool colons) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colons && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void check_metric_name(const std::string& name) {
  if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
}

// Adds with a compare-exchange loop: C++17 has no fetch_add for atomic<double>.
void atomic_add(std::atomic<double>& a, double d) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

// `a="x",b="y"` with names sorted: the canonical key of a label set. `names` gets the sorted
// names. "le" is the histogram bucket label, so histograms may not use it.
std::string canonical_labels(label_set labels, bool histogram, std::vector<std::string>& names) {
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  names.clear();
  for (const auto& [name, value] : labels) {
    if (!valid_name(name, false) || name.rfind("__", 0) == 0 || (histogram && name == "le"))
      throw std::invalid_argument("invalid label name \"" + name + "\"");
    if (!names.empty() && names.back() == name)
      throw std::invalid_argument("label \"" + name + "\" given twice");
    names.push_back(name);
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    out += escape_label_value(value);
    out += '"';
  }
  return out;
}

// name{labels} value\n, or name value\n without labels.
void write_sample(std::string& out, const std::string& name, const std::string& suffix,
                  const std::string& labels, const std::string& value) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void header(std::string& out, const family_base& f) {
  out += "# HELP " + f.name() + " " + escape_help(f.help()) + "\n";
  out += "# TYPE " + f.name() + " " + f.type() + "\n";
}

// Finite bounds, strictly increasing; a trailing +Inf is implied and dropped.
std::vector<double> normalized_bounds(std::vector<double> b) {
  if (!b.empty() && std::isinf(b.back()) && b.back() > 0) b.pop_back();
  for (size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b[i]) || (i > 0 && !(b[i - 1] < b[i])))
      throw std::invalid_argument("histogram buckets must be finite and strictly increasing");
  }
  return b;
}

// A gauge family whose samples come from a function at render time.
class callback_family : public family_base {
 public:
  using fn_type = std::function<std::vector<labeled_value>()>;
  callback_family(std::string name, std::string help, fn_type fn)
      : family_base(std::move(name), std::move(help)), fn_(std::move(fn)) {}
  const char* type() const override { return "gauge"; }

  void render(std::string& out) const override {
    std::lock_guard lock(mutex_);  // remove() waits for a call in progress
    if (!fn_) return;
    std::map<std::string, double> samples;
    try {
      std::vector<std::string> names;
      for (auto& v : fn_()) samples[canonical_labels(std::move(v.labels), false, names)] = v.value;
    } catch (const std::exception& e) {
      // One broken callback must not take the whole /metrics page down.
      log::warn("metrics callback failed", {{"metric", name()}, {"error", e.what()}});
      return;
    }
    if (samples.empty()) return;
    header(out, *this);
    for (const auto& [labels, value] : samples)
      write_sample(out, name(), "", labels, format_value(value));
  }

  void remove() {
    std::lock_guard lock(mutex_);
    fn_ = nullptr;
  }

 private:
  mutable std::mutex mutex_;
  fn_type fn_;
};

}  // namespace

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // also -0
  char buf[64];
  // Whole numbers print as integers ("1000000", not "1e+06"); others as the shortest text that
  // reads back as the same double.
  auto r = (v == std::floor(v) && std::fabs(v) < 1e15)
               ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
               : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void gauge::add(double d) {
  atomic_add(v_, d);
}

histogram::histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_->size() + 1]()) {}

void histogram::observe(double v) {
  // Bucket i counts bounds[i-1] < v <= bounds[i]; NaN lands in +Inf.
  size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  s.cumulative.reserve(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  // The count is the buckets' total, so +Inf and _count always agree even mid-update.
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

template <class M>
family<M>::family(std::string name, std::string help, std::vector<double> bounds)
    : family_base(std::move(name), std::move(help)),
      bounds_(std::make_shared<const std::vector<double>>(std::move(bounds))) {}

template <class M>
M& family<M>::labels(const label_set& labels) {
  std::vector<std::string> names;
  std::string key = canonical_labels(labels, std::is_same_v<M, histogram>, names);
  std::lock_guard lock(mutex_);
  auto it = children_.find(key);
  if (it != children_.end()) return *it->second;
  if (children_.empty()) {
    label_names_ = names;
  } else if (names != label_names_) {
    throw std::invalid_argument("metric " + name() +
                                ": every child must have the same label names");
  }
  std::unique_ptr<M> child;
  if constexpr (std::is_same_v<M, histogram>) {
    child = std::make_unique<M>(bounds_);
  } else {
    child = std::make_unique<M>();
  }
  return *children_.emplace(std::move(key), std::move(child)).first->second;
}

template <class M>
size_t family<M>::remove_matching(const label_set& subset) {
  // A child's key is `a="x",b="y"` with escaped values, so `name="value"` standing between
  // commas (or the ends) is exactly that label: an escaped value holds no bare quote.
  std::vector<std::string> wanted;
  for (const auto& [n, v] : subset) wanted.push_back(n + "=\"" + escape_label_value(v) + "\"");
  auto has = [](const std::string& key, const std::string& part) {
    for (size_t at = key.find(part); at != std::string::npos; at = key.find(part, at + 1)) {
      size_t end = at + part.size();
      if ((at == 0 || key[at - 1] == ',') && (end == key.size() || key[end] == ',')) return true;
    }
    return false;
  };
  std::lock_guard lock(mutex_);
  size_t dropped = 0;
  for (auto it = children_.begin(); it != children_.end();) {
    bool all = true;
    for (const auto& w : wanted) all = all && has(it->first, w);
    if (all) {
      it = children_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

template <class M>
bool family<M>::remove(const label_set& labels) {
  std::vector<std::string> names;
  std::string key = canonical_labels(labels, std::is_same_v<M, histogram>, names);
  std::lock_guard lock(mutex_);
  return children_.erase(key) > 0;
}

template <>
const char* family<counter>::type() const {
  return "counter";
}
template <>
const char* family<gauge>::type() const {
  return "gauge";
}
template <>
const char* family<histogram>::type() const {
  return "histogram";
}

template <class M>
void family<M>::render(std::string& out) const {
  std::lock_guard lock(mutex_);
  if (children_.empty()) return;
  header(out, *this);
  for (const auto& [key, child] : children_) {
    if constexpr (std::is_same_v<M, histogram>) {
      auto s = child->read();
      const std::string sep = key.empty() ? "" : ",";
      for (size_t i = 0; i < s.cumulative.size(); ++i) {
        std::string le = i < bounds_->size() ? format_value((*bounds_)[i]) : "+Inf";
        write_sample(out, name(), "_bucket", key + sep + "le=\"" + le + "\"",
                     std::to_string(s.cumulative[i]));
      }
      write_sample(out, name(), "_sum", key, format_value(s.sum));
      write_sample(out, name(), "_count", key, std::to_string(s.count));
    } else if constexpr (std::is_same_v<M, counter>) {
      write_sample(out, name(), "", key, std::to_string(child->value()));
    } else {
      write_sample(out, name(), "", key, format_value(child->value()));
    }
  }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

template <class F, class... A>
F& registry::add(const std::string& name, const std::string& help, A&&... args) {
  check_metric_name(name);
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_shared<F>(name, help, std::forward<A>(args)...);
    auto& ref = *f;
    families_.emplace(name, std::move(f));
    return ref;
  }
  auto* existing = dynamic_cast<F*>(it->second.get());
  if (!existing || existing->help() != help)
    throw std::invalid_argument("metric " + name +
                                " is already registered with another type or help");
  return *existing;
}

family<counter>& registry::counters(const std::string& name, const std::string& help) {
  return add<family<counter>>(name, help);
}

family<gauge>& registry::gauges(const std::string& name, const std::string& help) {
  return add<family<gauge>>(name, help);
}

family<histogram>& registry::histograms(const std::string& name, const std::string& help,
                                        std::vector<double> bounds) {
  auto b = normalized_bounds(std::move(bounds));
  auto& f = add<family<histogram>>(name, help, b);
  if (f.bounds() != b)
    throw std::invalid_argument("histogram " + name + " is already registered with other buckets");
  return f;
}

void registry::gauge_callback(const std::string& name, const std::string& help,
                              std::function<double()> fn) {
  labeled_gauge_callback(name, help, [fn = std::move(fn)] {
    return std::vector<labeled_value>{{{}, fn()}};
  });
}

void registry::labeled_gauge_callback(const std::string& name, const std::string& help,
                                      std::function<std::vector<labeled_value>()> fn) {
  check_metric_name(name);
  std::lock_guard lock(mutex_);
  if (families_.count(name))
    throw std::invalid_argument("metric " + name + " is already registered");
  families_.emplace(name, std::make_shared<callback_family>(name, help, std::move(fn)));
}

void registry::remove_callback(const std::string& name) {
  std::shared_ptr<family_base> f;
  {
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it == families_.end() || !dynamic_cast<callback_family*>(it->second.get())) return;
    f = std::move(it->second);
    families_.erase(it);
  }
  static_cast<callback_family&>(*f).remove();
}

std::string registry::render() const {
  // Families are never destroyed while a render holds them, and callbacks run unlocked here.
  std::vector<std::shared_ptr<family_base>> all;
  {
    std::lock_guard lock(mutex_);
    all.reserve(families_.size());
    for (const auto& [name, f] : families_) all.push_back(f);
  }
  std::string out;
  for (const auto& f : all) f->render(out);
  return out;
}

registry& default_registry() {
  static registry r;
  return r;
}

}  // namespace k8s::metrics
