#include "tools/kuttl/test_case.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>

#include "k8s/json/yaml_json.h"

namespace kuttl {
namespace {

namespace js = k8s::json;

bool is_kuttl(const js::Value& doc, std::string_view kind) {
  const auto api = js::get_string(doc, "apiVersion");
  return js::get_string(doc, "kind") == kind &&
         (api == "kuttl.dev/v1beta1" || api == "kudo.dev/v1alpha1");
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw spec_problem(where + ": " + what);
}

std::string string_field(const js::Value& o, const char* key, const std::string& where) {
  const js::Value* v = js::find(o, key);
  if (!v || v->IsNull()) return "";
  if (!v->IsString()) fail(where + "." + key, "must be a string");
  return std::string(js::view(*v));
}

bool bool_field(const js::Value& o, const char* key, const std::string& where) {
  const js::Value* v = js::find(o, key);
  if (!v || v->IsNull()) return false;
  if (!v->IsBool()) fail(where + "." + key, "must be true or false");
  return v->GetBool();
}

std::optional<int> int_field(const js::Value& o, const char* key, const std::string& where) {
  const js::Value* v = js::find(o, key);
  if (!v || v->IsNull()) return std::nullopt;
  if (!v->IsInt() || v->GetInt() < 0) fail(where + "." + key, "must be a whole number >= 0");
  return v->GetInt();
}

const js::Value* list_field(const js::Value& o, const char* key, const std::string& where) {
  const js::Value* v = js::find(o, key);
  if (!v || v->IsNull()) return nullptr;
  if (!v->IsArray()) fail(where + "." + key, "must be a list");
  return v;
}

std::vector<std::string> string_list(const js::Value& o, const char* key,
                                     const std::string& where) {
  std::vector<std::string> out;
  if (const js::Value* l = list_field(o, key, where))
    for (rapidjson::SizeType i = 0; i < l->Size(); ++i) {
      if (!(*l)[i].IsString())
        fail(where + "." + key + "[" + std::to_string(i) + "]", "must be a string");
      out.emplace_back(js::view((*l)[i]));
    }
  return out;
}

void check_object(const js::Value& doc, const std::string& where) {
  if (!doc.IsObject()) fail(where, "a document must be a Kubernetes object (a map)");
  if (js::get_string(doc, "apiVersion").empty()) fail(where + ".apiVersion", "is missing");
  if (js::get_string(doc, "kind").empty()) fail(where + ".kind", "is missing");
}

void load_test_step(const js::Value& doc, const std::string& where, step& s,
                    const std::function<std::string(const std::string&)>& read);

// Objects of a file into `into`; TestStep/TestAssert documents into `s`.
void add_file(const std::string& text, const std::string& file, bool assert_file, step& s,
              std::vector<js::Document>& into,
              const std::function<std::string(const std::string&)>& read) {
  auto docs = yaml_documents(text, file);
  for (size_t i = 0; i < docs.size(); ++i) {
    const std::string where = file + " (document " + std::to_string(i + 1) + ")";
    check_object(docs[i], where);
    if (is_kuttl(docs[i], "TestStep")) {
      if (assert_file) fail(where, "a TestStep belongs in a step file, not in an assert file");
      load_test_step(docs[i], where, s, read);
    } else if (is_kuttl(docs[i], "TestAssert")) {
      if (!assert_file) fail(where, "a TestAssert belongs in an assert file");
      if (auto t = int_field(docs[i], "timeout", where)) s.timeout_seconds = *t;
      if (js::find(docs[i], "collectors") || js::find(docs[i], "commands"))
        fail(where, "TestAssert collectors and commands are not supported by kuttl-runner");
    } else {
      into.push_back(std::move(docs[i]));
    }
  }
}

void load_test_step(const js::Value& doc, const std::string& where, step& s,
                    const std::function<std::string(const std::string&)>& read) {
  if (auto t = int_field(doc, "timeout", where)) s.timeout_seconds = *t;
  if (js::find(doc, "index")) fail(where + ".index", "is not supported by kuttl-runner");
  if (const js::Value* cs = list_field(doc, "commands", where))
    for (rapidjson::SizeType i = 0; i < cs->Size(); ++i) {
      const std::string w = where + ".commands[" + std::to_string(i) + "]";
      const js::Value& c = (*cs)[i];
      if (!c.IsObject()) fail(w, "must be a map");
      command cmd;
      cmd.command = string_field(c, "command", w);
      cmd.script = string_field(c, "script", w);
      cmd.namespaced = bool_field(c, "namespaced", w);
      cmd.ignore_failure = bool_field(c, "ignoreFailure", w);
      cmd.background = bool_field(c, "background", w);
      cmd.timeout_seconds = int_field(c, "timeout", w).value_or(0);
      if (cmd.command.empty() == cmd.script.empty())
        fail(w, "needs exactly one of `command` and `script`");
      if (cmd.namespaced && !cmd.script.empty())
        fail(w + ".namespaced", "only applies to `command`, not to `script`");
      if (cmd.background) fail(w + ".background", "is not supported by kuttl-runner");
      s.commands.push_back(std::move(cmd));
    }
  if (const js::Value* ds = list_field(doc, "delete", where))
    for (rapidjson::SizeType i = 0; i < ds->Size(); ++i) {
      const std::string w = where + ".delete[" + std::to_string(i) + "]";
      const js::Value& d = (*ds)[i];
      if (!d.IsObject()) fail(w, "must be a map");
      object_ref ref;
      ref.api_version = string_field(d, "apiVersion", w);
      ref.kind = string_field(d, "kind", w);
      ref.name = string_field(d, "name", w);
      ref.namespace_name = string_field(d, "namespace", w);
      if (ref.api_version.empty() || ref.kind.empty()) fail(w, "needs apiVersion and kind");
      if (const js::Value* ls = js::find(d, "labels"); ls && !ls->IsNull()) {
        if (!ls->IsObject()) fail(w + ".labels", "must be a map");
        for (const auto& m : ls->GetObject()) {
          if (!m.value.IsString())
            fail(w + ".labels." + std::string(js::view(m.name)), "must be a string");
          ref.labels[std::string(js::view(m.name))] = std::string(js::view(m.value));
        }
      }
      s.deletes.push_back(std::move(ref));
    }
  for (const auto& f : string_list(doc, "apply", where))
    add_file(read(f), f, false, s, s.apply, read);
  for (const auto& f : string_list(doc, "assert", where))
    add_file(read(f), f, true, s, s.asserts, read);
  for (const auto& f : string_list(doc, "error", where))
    add_file(read(f), f, true, s, s.errors, read);
}

bool is_kind_of(const std::string& part, const char* what) {
  const std::string w(what);
  return part == w || part.rfind(w + "-", 0) == 0;
}

}  // namespace

std::optional<std::pair<int, std::string>> step_file_name(const std::string& file_name) {
  // kuttl's testStepRegex: ^(\d+)-(?:[^\.]+)(?:\.yaml)?$
  static const std::regex re(R"(^(\d+)-([^.]+)(\.yaml)?$)");
  std::smatch m;
  if (!std::regex_match(file_name, m, re)) return std::nullopt;
  if (m[1].str().size() > 9) return std::nullopt;
  return std::make_pair(std::stoi(m[1].str()), m[2].str());
}

std::vector<js::Document> yaml_documents(const std::string& text, const std::string& file) {
  std::vector<js::Document> out;
  try {
    for (const auto& node : YAML::LoadAll(text)) {
      if (node.IsNull() || !node.IsDefined()) continue;
      js::Document d;
      js::Value v = js::yaml_node_to_json(node, d.GetAllocator());
      static_cast<js::Value&>(d).Swap(v);
      out.push_back(std::move(d));
    }
  } catch (const YAML::Exception& e) {
    throw spec_problem(file + ": not valid YAML: " + e.what());
  }
  return out;
}

std::vector<step> load_steps(const std::vector<std::pair<std::string, std::string>>& files,
                             const std::function<std::string(const std::string&)>& read) {
  auto sorted = files;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::map<int, step> by_index;
  for (const auto& [name, text] : sorted) {
    auto parsed = step_file_name(name);
    if (!parsed) continue;
    step& s = by_index[parsed->first];
    s.index = parsed->first;
    s.files.push_back(name);
    const std::string& part = parsed->second;
    if (is_kind_of(part, "assert")) {
      add_file(text, name, true, s, s.asserts, read);
    } else if (is_kind_of(part, "errors")) {
      add_file(text, name, true, s, s.errors, read);
    } else {
      if (s.name.empty()) s.name = part;
      add_file(text, name, false, s, s.apply, read);
    }
  }
  std::vector<step> out;
  for (auto& [index, s] : by_index) {
    if (s.name.empty()) s.name = "assert";
    out.push_back(std::move(s));
  }
  return out;
}

suite parse_suite(const std::string& text, const std::string& file) {
  auto docs = yaml_documents(text, file);
  if (docs.size() != 1 || !is_kuttl(docs[0], "TestSuite"))
    fail(file, "must hold one kuttl.dev/v1beta1 TestSuite");
  suite s;
  s.test_dirs = string_list(docs[0], "testDirs", file);
  if (auto t = int_field(docs[0], "timeout", file)) s.timeout_seconds = *t;
  s.namespace_name = string_field(docs[0], "namespace", file);
  s.skip_delete = bool_field(docs[0], "skipDelete", file);
  return s;
}

}  // namespace kuttl
