#include "tools/kuttl/runner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "tools/kuttl/assert_watch.h"
#include "tools/kuttl/command_line.h"
#include "tools/kuttl/subprocess.h"
#include "tools/kuttl/subset.h"

namespace kuttl {
namespace {

namespace js = k8s::json;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

const k8s::resource namespaces{"", "v1", "namespaces", "Namespace", false};

double since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw spec_problem(p.string() + ": cannot read it");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string random_namespace() {
  static const char* adjectives[] = {"brave", "calm",  "eager", "fair",  "glad",  "keen",
                                     "lucky", "merry", "proud", "quick", "sunny", "witty"};
  static const char* animals[] = {"badger", "crane", "dingo", "falcon", "gecko", "heron",
                                  "ibex",   "koala", "lemur", "otter",  "panda", "wombat"};
  std::random_device rd;
  std::mt19937 g(rd());
  auto pick = [&](auto& words) { return words[g() % (sizeof(words) / sizeof(words[0]))]; };
  return fmt::format("kuttl-test-{}-{}-{}", pick(adjectives), pick(animals), g() % 1000);
}

std::string object_label(const js::Value& o) {
  return fmt::format("{} {}", js::get_string(o, "kind"),
                     js::get_string(o, {"metadata", "name"}, "(any name)"));
}

// The namespace an object of the test lives in ("" for cluster-scoped kinds).
std::string namespace_of(const js::Value& o, const k8s::resource& r, const std::string& ns) {
  if (!r.namespaced) return "";
  auto own = js::get_string(o, {"metadata", "namespace"});
  return own.empty() ? ns : std::string(own);
}

std::string label_selector(const js::Value& o) {
  std::string sel;
  if (const js::Value* ls = js::find_path(o, {"metadata", "labels"}); ls && ls->IsObject())
    for (const auto& m : ls->GetObject())
      if (m.value.IsString())
        sel += (sel.empty() ? "" : ",") + std::string(js::view(m.name)) + "=" +
               std::string(js::view(m.value));
  return sel;
}

// Created, or merge-patched with the whole object when it exists (kuttl's CreateOrUpdate).
std::optional<std::string> apply_object(cluster& c, const js::Value& o, const std::string& ns) {
  auto r = c.resource_for(std::string(js::get_string(o, "apiVersion")),
                          std::string(js::get_string(o, "kind")));
  if (!r) return object_label(o) + ": " + r.error().describe();
  const std::string name(js::get_string(o, {"metadata", "name"}));
  if (name.empty()) return object_label(o) + ": metadata.name is missing";
  const std::string where = namespace_of(o, r.value(), ns);
  js::Document body = js::copy_of(o);
  if (!where.empty())
    js::set_string(js::ensure_object(body, "metadata", body.GetAllocator()), "namespace", where,
                   body.GetAllocator());
  auto existing = c.get(r.value(), where, name);
  if (existing) {
    auto p = c.merge_patch(r.value(), where, name, js::to_string(body));
    if (!p) return object_label(o) + ": merge patch: " + p.error().describe();
    return std::nullopt;
  }
  if (existing.error().kind != k8s::error_kind::not_found)
    return object_label(o) + ": " + existing.error().describe();
  auto made = c.create(r.value(), where, js::to_string(body));
  if (!made) return object_label(o) + ": create: " + made.error().describe();
  return std::nullopt;
}

// nullopt when `expected` matches an object of the cluster, else why not.
std::optional<std::string> check_assert(cluster& c, const js::Value& expected,
                                        const std::string& ns) {
  auto r = c.resource_for(std::string(js::get_string(expected, "apiVersion")),
                          std::string(js::get_string(expected, "kind")));
  if (!r) return object_label(expected) + ": " + r.error().describe();
  const std::string where = namespace_of(expected, r.value(), ns);
  const std::string name(js::get_string(expected, {"metadata", "name"}));
  if (!name.empty()) {
    auto got = c.get(r.value(), where, name);
    if (!got) return object_label(expected) + ": " + got.error().describe();
    auto diffs = subset_differences(expected, *got.value());
    if (diffs.empty()) return std::nullopt;
    return object_label(expected) + " does not match:\n" + describe(diffs);
  }
  auto page = c.list(r.value(), where, label_selector(expected));
  if (!page) return object_label(expected) + ": " + page.error().describe();
  std::optional<std::vector<difference>> closest;
  for (const auto& item : page.value().items) {
    auto diffs = subset_differences(expected, *item);
    if (diffs.empty()) return std::nullopt;
    if (!closest || diffs.size() < closest->size()) closest = std::move(diffs);
  }
  if (!closest) return object_label(expected) + ": none exists";
  return object_label(expected) + ": none matches; the closest differs in:\n" + describe(*closest);
}

// nullopt when no object of the cluster matches `unwanted`, else which one does.
std::optional<std::string> check_error(cluster& c, const js::Value& unwanted,
                                       const std::string& ns) {
  auto r = c.resource_for(std::string(js::get_string(unwanted, "apiVersion")),
                          std::string(js::get_string(unwanted, "kind")));
  if (!r) {
    if (r.error().kind == k8s::error_kind::not_found) return std::nullopt;  // no such kind
    return object_label(unwanted) + ": " + r.error().describe();
  }
  const std::string where = namespace_of(unwanted, r.value(), ns);
  const std::string name(js::get_string(unwanted, {"metadata", "name"}));
  std::vector<k8s::object_ptr> candidates;
  if (!name.empty()) {
    auto got = c.get(r.value(), where, name);
    if (!got) {
      if (got.error().kind == k8s::error_kind::not_found) return std::nullopt;
      return object_label(unwanted) + ": " + got.error().describe();
    }
    candidates.push_back(got.value());
  } else {
    auto page = c.list(r.value(), where, label_selector(unwanted));
    if (!page) return object_label(unwanted) + ": " + page.error().describe();
    candidates = page.value().items;
  }
  for (const auto& o : candidates)
    if (subset_differences(unwanted, *o).empty())
      return object_label(*o) + " exists and matches an object of the errors file";
  return std::nullopt;
}

std::optional<std::string> delete_refs(cluster& c, const std::vector<object_ref>& refs,
                                       const std::string& ns, int timeout_seconds) {
  std::vector<std::tuple<k8s::resource, std::string, std::string>> gone_wanted;
  for (const auto& ref : refs) {
    auto r = c.resource_for(ref.api_version, ref.kind);
    if (!r) return "delete " + ref.kind + ": " + r.error().describe();
    const std::string where = !r.value().namespaced        ? ""
                              : ref.namespace_name.empty() ? ns
                                                           : ref.namespace_name;
    std::vector<std::string> names;
    if (!ref.name.empty()) {
      names.push_back(ref.name);
    } else {
      std::string sel;
      for (const auto& [k, v] : ref.labels) sel += (sel.empty() ? "" : ",") + k + "=" + v;
      auto page = c.list(r.value(), where, sel);
      if (!page) return "delete " + ref.kind + ": " + page.error().describe();
      for (const auto& o : page.value().items)
        names.emplace_back(js::get_string(*o, {"metadata", "name"}));
    }
    for (const auto& n : names) {
      auto d = c.remove(r.value(), where, n);
      if (!d && d.error().kind != k8s::error_kind::not_found)
        return "delete " + ref.kind + " " + n + ": " + d.error().describe();
      gone_wanted.emplace_back(r.value(), where, n);
    }
  }
  const auto deadline = clock_type::now() + std::chrono::seconds(timeout_seconds);
  for (const auto& [r, where, n] : gone_wanted)
    for (;;) {
      auto got = c.get(r, where, n);
      if (!got && got.error().kind == k8s::error_kind::not_found) break;
      if (clock_type::now() >= deadline)
        return "delete " + r.kind + " " + n + ": still there after " +
               std::to_string(timeout_seconds) + "s";
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  return std::nullopt;
}

std::optional<std::string> run_commands(const std::vector<command>& commands,
                                        const std::string& dir, const std::string& ns,
                                        const run_options& o, std::ostream& log) {
  std::map<std::string, std::string> env{{"NAMESPACE", ns}};
  if (!o.kubeconfig.empty()) env["KUBECONFIG"] = o.kubeconfig;
  auto lookup = [&](const std::string& k) -> std::optional<std::string> {
    if (auto it = env.find(k); it != env.end()) return it->second;
    if (const char* v = std::getenv(k.c_str())) return std::string(v);
    return std::nullopt;
  };
  for (const auto& cmd : commands) {
    std::vector<std::string> argv;
    std::string shown;
    if (!cmd.script.empty()) {
      argv = {"sh", "-c", cmd.script};
      shown = "script";
    } else {
      try {
        argv = split_words(expand_env(cmd.command, lookup));
      } catch (const std::invalid_argument& e) {
        return std::string("command: ") + e.what();
      }
      if (cmd.namespaced) {
        argv.push_back("--namespace");
        argv.push_back(ns);
      }
      shown = cmd.command;
    }
    int timeout = cmd.timeout_seconds > 0 ? cmd.timeout_seconds : o.timeout_seconds;
    if (o.max_timeout_seconds > 0) timeout = std::min(timeout, o.max_timeout_seconds);
    log << "    running " << shown << "\n";
    auto res = run_process(argv, env, dir, std::chrono::seconds(timeout));
    std::istringstream out(res.output);
    for (std::string line; std::getline(out, line);) log << "      | " << line << "\n";
    if ((res.exit_code != 0 || res.timed_out) && !cmd.ignore_failure)
      return fmt::format("command {} {}", shown,
                         res.timed_out ? fmt::format("timed out after {}s", timeout)
                                       : fmt::format("exited with {}", res.exit_code));
  }
  return std::nullopt;
}

// Polls asserts and errors until all hold or the timeout passes; nullopt when they hold. The
// asserts also hold once they held at any event of the step's watch (assert_watch.h); the
// errors files are checked on polls only.
std::optional<std::string> check_until(cluster& c, const step& s, const std::string& ns,
                                       int timeout_seconds, std::chrono::milliseconds poll) {
  const auto deadline = clock_type::now() + std::chrono::seconds(timeout_seconds);
  assert_watch watch(c, s.asserts, ns);
  bool asserts_seen = false;
  for (;;) {
    std::string failures;
    asserts_seen = asserts_seen || watch.wait_matched(std::chrono::milliseconds(0));
    if (!asserts_seen) {
      for (const auto& a : s.asserts)
        if (auto f = check_assert(c, a, ns)) failures += "  assert " + *f + "\n";
      asserts_seen = failures.empty();
    }
    for (const auto& e : s.errors)
      if (auto f = check_error(c, e, ns)) failures += "  errors " + *f + "\n";
    if (failures.empty()) return std::nullopt;
    if (clock_type::now() >= deadline)
      return fmt::format("not true after {}s:\n{}", timeout_seconds, failures);
    if (asserts_seen)
      std::this_thread::sleep_for(poll);
    else
      watch.wait_matched(poll);  // wakes at once when an event makes the asserts hold
  }
}

step_report run_step(cluster& c, const step& s, const std::string& dir, const std::string& ns,
                     const run_options& o, std::ostream& log) {
  step_report rep;
  rep.step = fmt::format("{:02d}-{}", s.index, s.name);
  const auto start = clock_type::now();
  int timeout = s.timeout_seconds.value_or(o.timeout_seconds);
  if (o.max_timeout_seconds > 0) timeout = std::min(timeout, o.max_timeout_seconds);
  log << "  step " << rep.step << " (" << fmt::format("{}", fmt::join(s.files, ", ")) << ")\n"
      << std::flush;
  std::optional<std::string> failure = delete_refs(c, s.deletes, ns, timeout);
  if (!failure) failure = run_commands(s.commands, dir, ns, o, log);
  for (const auto& obj : s.apply) {
    if (failure) break;
    failure = apply_object(c, obj, ns);
  }
  if (!failure) failure = check_until(c, s, ns, timeout, o.poll_interval);
  rep.ok = !failure;
  rep.failure = failure.value_or("");
  rep.seconds = since(start);
  log << fmt::format("  step {} {} ({:.1f}s)\n", rep.step, rep.ok ? "passed" : "FAILED",
                     rep.seconds);
  if (!rep.ok) log << rep.failure << (rep.failure.back() == '\n' ? "" : "\n");
  log << std::flush;
  return rep;
}

}  // namespace

test_report run_test(cluster& c, const std::string& dir, const std::string& name,
                     const run_options& o, std::ostream& log) {
  test_report rep;
  rep.test = name;
  const auto start = clock_type::now();
  std::vector<step> steps;
  try {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file())
        files.emplace_back(e.path().filename().string(), read_text(e.path()));
    steps = load_steps(files, [&](const std::string& f) { return read_text(fs::path(dir) / f); });
  } catch (const std::exception& e) {
    rep.failure = e.what();
    log << "=== test " << name << ": cannot load it: " << rep.failure << "\n";
    return rep;
  }
  rep.namespace_name = o.namespace_name.empty() ? random_namespace() : o.namespace_name;
  log << "=== test " << name << " (namespace " << rep.namespace_name << ", " << steps.size()
      << " steps)\n"
      << std::flush;
  bool created = false;
  auto existing = c.get(namespaces, "", rep.namespace_name);
  if (!existing) {
    auto made = c.create(
        namespaces, "",
        fmt::format(R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{}"}}}})",
                    rep.namespace_name));
    if (!made) {
      rep.failure = "namespace " + rep.namespace_name + ": " + made.error().describe();
      log << rep.failure << "\n";
      return rep;
    }
    created = true;
  }
  rep.ok = true;
  for (const auto& s : steps) {
    rep.steps.push_back(run_step(c, s, dir, rep.namespace_name, o, log));
    if (!rep.steps.back().ok) {
      rep.ok = false;
      break;
    }
  }
  if (created && !o.skip_delete) {
    auto d = c.remove(namespaces, "", rep.namespace_name);
    if (!d && d.error().kind != k8s::error_kind::not_found)
      log << "  could not delete namespace " << rep.namespace_name << ": " << d.error().describe()
          << "\n";
  }
  rep.seconds = since(start);
  log << fmt::format("--- test {} {} ({:.1f}s)\n", name, rep.ok ? "passed" : "FAILED", rep.seconds)
      << std::flush;
  return rep;
}

}  // namespace kuttl
