// A small thread-safe Prometheus registry: counters, gauges and histograms with label sets, and
// gauges read from a callback at render time. Looking a child up by its labels takes a lock once;
// the returned reference lives as long as the registry, so callers cache it and every update after
// that is a relaxed atomic operation. render() writes the text exposition format v0.0.4.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace k8s::metrics {

// {{"cluster","a"},{"verb","GET"}}: any order; rendered sorted by label name.
using label_set = std::vector<std::pair<std::string, std::string>>;

// Monotonic whole count (requests, errors, events). Prometheus wants its name to end in _total.
class counter {
 public:
  void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void inc(double d = 1) { add(d); }
  void dec(double d = 1) { add(-d); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  void add(double d);
  std::atomic<double> v_{0};
};

class histogram {
 public:
  // `bounds`: the upper bounds of the finite buckets, strictly increasing (checked by the family).
  explicit histogram(std::shared_ptr<const std::vector<double>> bounds);
  void observe(double v);

  struct snapshot {
    std::vector<uint64_t> cumulative;  // one per finite bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  snapshot read() const;

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket (not cumulative), +Inf last
  std::atomic<double> sum_{0};
};

// What a family does for the registry, whatever its metric type.
class family_base {
 public:
  family_base(std::string name, std::string help)
      : name_(std::move(name)), help_(std::move(help)) {}
  virtual ~family_base() = default;
  family_base(const family_base&) = delete;
  family_base& operator=(const family_base&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  virtual const char* type() const = 0;
  // Appends HELP, TYPE and the samples; nothing when the family has no child yet.
  virtual void render(std::string& out) const = 0;

 private:
  std::string name_;
  std::string help_;
};

// All the children of one metric name, one per label set. Every child must use the same label
// names (checked: std::invalid_argument otherwise).
template <class M>
class family : public family_base {
 public:
  family(std::string name, std::string help, std::vector<double> bounds = {});
  // The child for these labels, created on first use; the reference stays valid for the
  // registry's lifetime. labels({}) is the family's single unlabelled child.
  M& labels(const label_set& labels);
  // Drops every child whose labels include all of `subset` (e.g. a deleted object's series), so
  // it is no longer rendered. A reference to a dropped child must not be used again: only call
  // this for children nobody caches. Returns how many were dropped.
  size_t remove_matching(const label_set& subset);
  // The same for the one child with exactly these labels; true when there was one.
  bool remove(const label_set& labels);
  const char* type() const override;
  void render(std::string& out) const override;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<double>> bounds_;  // histograms only
  std::vector<std::string> label_names_;               // sorted; fixed by the first child
  // Key: the rendered labels, `a="x",b="y"` (canonical: names sorted, values escaped).
  std::map<std::string, std::unique_ptr<M>> children_;
};

// Defined in metrics.cpp for these three types only.
template <>
const char* family<counter>::type() const;
template <>
const char* family<gauge>::type() const;
template <>
const char* family<histogram>::type() const;
extern template class family<counter>;
extern template class family<gauge>;
extern template class family<histogram>;

struct labeled_value {
  label_set labels;
  double value = 0;
};

class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Registering a name again returns the same family when its type (and buckets) match, else
  // throws std::invalid_argument; so do invalid metric or label names.
  family<counter>& counters(const std::string& name, const std::string& help);
  family<gauge>& gauges(const std::string& name, const std::string& help);
  // `bounds`: finite upper bounds, strictly increasing; +Inf is always added.
  family<histogram>& histograms(const std::string& name, const std::string& help,
                                std::vector<double> bounds);

  // A gauge whose value(s) `fn` gives at each render(), called without registry locks held.
  void gauge_callback(const std::string& name, const std::string& help, std::function<double()> fn);
  void labeled_gauge_callback(const std::string& name, const std::string& help,
                              std::function<std::vector<labeled_value>()> fn);
  // Unregisters a callback gauge; once this returns its function is never called again.
  void remove_callback(const std::string& name);

  // The text exposition format v0.0.4 (Content-Type: text/plain; version=0.0.4), families
  // sorted by name.
  std::string render() const;

 private:
  template <class F, class... A>
  F& add(const std::string& name, const std::string& help, A&&... args);

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<family_base>> families_;
};

// One registry for the whole process, for code that has no other way to reach one.
registry& default_registry();

inline constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

// Exposition helpers, exposed for tests: label value escaping (\\, \", \n), HELP escaping (\\,
// \n) and sample value formatting (shortest round trip, integers without exponent, +Inf, NaN).
std::string escape_label_value(const std::string& v);
std::string escape_help(const std::string& v);
std::string format_value(double v);

}  // namespace k8s::metrics
