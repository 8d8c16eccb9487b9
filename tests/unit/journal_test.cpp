// The journal: events survive a JSON round trip, and a replay reproduces the decisions.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "actors/multicasskop/journal_file.h"
#include "actors/multicasskop/logic/journal.h"
#include "tests/unit/multicasskop_world.h"

namespace js = k8s::json;

TEST_CASE("journal: every event type survives encode and decode") {
  auto obj = std::make_shared<const js::Document>(js::parse(
      R"({"metadata":{"namespace":"ns","name":"x","resourceVersion":"7"},"spec":{"a":[1,2]}})"));
  k8s::api_error err;
  err.kind = k8s::error_kind::conflict;
  err.http_code = 409;
  err.reason = "Conflict";
  err.message = "the object has been modified";
  std::vector<mc::event_body> bodies = {
      mc::clusters_configured{{"a", "b"}},
      mc::cluster_health{"a", false, true, "connection refused"},
      mc::multicasskop_seen{obj},
      mc::multicasskop_gone{{"ns", "x"}},
      mc::cassandracluster_seen{"b", obj},
      mc::cassandracluster_gone{"b", "ns", "x"},
      mc::write_done{5, false, err, nullptr},
      mc::write_done{6, true, {}, obj},
      mc::timer_fired{{"ns", "x"}, "a", 9},
      mc::command_issued{"create", 10, {"ns", "x"}},
      mc::command_issued{"event", 0, {"ns", "x"}},
  };
  uint64_t seq = 0;
  for (const auto& b : bodies) {
    mc::event e{++seq, 1700000000000 + static_cast<int64_t>(seq), b};
    std::string line = mc::encode_event(e);
    mc::event back = mc::decode_event(line);
    CHECK(back.seq == e.seq);
    CHECK(back.at_ms == e.at_ms);
    CHECK(back.body.index() == e.body.index());
    CHECK(mc::encode_event(back) == line);
  }
}

TEST_CASE("journal: malformed lines are refused with a reason") {
  CHECK_THROWS_WITH(mc::decode_event("{"), doctest::Contains("not JSON"));
  CHECK_THROWS_WITH(mc::decode_event(R"({"seq":1,"at":2,"type":"nope"})"),
                    "unknown event type \"nope\"");
  CHECK_THROWS_WITH(mc::decode_event(R"({"type":"timer_fired"})"), "missing seq or at");
  CHECK_THROWS_WITH(mc::decode_event(R"({"seq":1,"at":2,"type":"command_issued","id":3})"),
                    "command_issued without kind, id or key");
  CHECK_THROWS_WITH(
      mc::decode_event(R"({"seq":1,"at":2,"type":"cassandracluster_seen","cluster":"a"})"),
      "cassandracluster_seen without object");
}

TEST_CASE("journal: replaying the recorded events gives the same decisions") {
  testworld::fake_world w({"a", "b"});
  std::vector<mc::event> recorded;
  std::vector<std::string> decided;
  // Record what the live machine sees and decides, as the supervisor's journal does.
  w.auto_casskop = true;
  w.set_multicasskop(R"({"base":{"metadata":{"name":"c"},"spec":{}},"override":{"a":{},"b":{}}})");
  // fake_world feeds its own machine; capture through a second machine fed the same lines.
  mc::state_machine live, replayed;
  int64_t t = 1700000000000;
  uint64_t seq = 0;
  auto feed = [&](mc::event_body b) {
    mc::event e{++seq, t += 5, std::move(b)};
    std::string line = mc::encode_event(e);
    for (const auto& c : live.apply(e)) decided.push_back(mc::summarize_command(c));
    recorded.push_back(mc::decode_event(line));
  };
  feed(mc::clusters_configured{{"a", "b"}});
  feed(mc::cluster_health{"a", true, true, ""});
  feed(mc::cluster_health{"b", true, true, ""});
  w.run();
  feed(mc::multicasskop_seen{std::make_shared<const js::Document>([&] {
    js::Document d;
    d.CopyFrom(*w.multicasskop(), d.GetAllocator());
    return d;
  }())});
  std::vector<std::string> again;
  for (const auto& e : recorded)
    for (const auto& c : replayed.apply(e)) again.push_back(mc::summarize_command(c));
  CHECK(!decided.empty());
  CHECK(again == decided);
}

TEST_CASE(
    "journal: the file rotates at its size limit, keeps max_files, and each new file starts with a "
    "snapshot") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("journal-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "journal.jsonl").string();
  mc::journal_file j;
  int snapshots = 0;
  j.open({path, 2048, 3}, [&] {
    ++snapshots;
    return std::vector<mc::event_body>{mc::clusters_configured{{"a", "b"}},
                                       mc::cluster_health{"a", true, true, ""}};
  });
  for (uint64_t seq = 1; seq <= 100; ++seq)
    j.record(
        mc::event{seq, 1700000000000, mc::cluster_health{"a", true, true, std::string(40, 'x')}});
  auto files = mc::journal_files(path);
  REQUIRE(files.size() == 3);  // journal.jsonl.2, .1 and journal.jsonl: older ones were dropped
  CHECK(files.front() == path + ".2");
  CHECK(files.back() == path);
  CHECK(snapshots >= 3);
  for (const auto& f : files) {
    CHECK(fs::file_size(f) <= 2048);
    std::ifstream in(f);
    std::string first;
    std::getline(in, first);
    auto e = mc::decode_event(first);
    CHECK(e.snapshot);
    CHECK(std::holds_alternative<mc::clusters_configured>(e.body));
  }
  // Seq numbers go on across files (a replay tells a rotation from a restart).
  std::ifstream last(path);
  uint64_t previous = 0;
  for (std::string line; std::getline(last, line);) {
    auto e = mc::decode_event(line);
    if (e.snapshot) continue;
    CHECK(e.seq > previous);
    previous = e.seq;
  }
  CHECK(previous == 100);
  fs::remove_all(dir);
}

TEST_CASE(
    "journal: a snapshot restates what the state machine knows, and rebuilds it after a restart") {
  testworld::fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.set_multicasskop(R"({"base":{"metadata":{"name":"c"},"spec":{}},"override":{"a":{},"b":{}}})");
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  mc::state_machine rebuilt;
  std::vector<mc::command> decided;
  for (auto& b : w.machine().snapshot())
    for (auto& c : rebuilt.apply(mc::event{0, w.now, std::move(b), true})) decided.push_back(c);
  CHECK(rebuilt.multicasskops().size() == 1);
  for (const auto& c : decided) {
    CHECK_FALSE(std::holds_alternative<mc::create_cassandracluster>(c));
    CHECK_FALSE(std::holds_alternative<mc::patch_cassandracluster>(c));
  }
}

TEST_CASE("journal: the last summaries of each MultiCasskop, oldest first, in one block each") {
  mc::journal j(3);
  const mc::mc_key one{"ns", "one"}, two{"ns", "two"};
  for (uint64_t seq = 1; seq <= 5; ++seq)
    j.record(
        mc::event{seq, 1700000000000 + static_cast<int64_t>(seq), mc::timer_fired{one, "", seq}},
        {one});
  j.record(mc::event{6, 1700000000006, mc::timer_fired{two, "", 6}}, {one, two});
  const auto recent = j.recent(one);
  REQUIRE(recent.size() == 3);  // the limit: the oldest went first
  CHECK(recent[0] == mc::summarize_event(mc::event{4, 1700000000004, mc::timer_fired{one, "", 4}}));
  CHECK(recent[2] == mc::summarize_event(mc::event{6, 1700000000006, mc::timer_fired{two, "", 6}}));
  CHECK(j.recent(two).size() == 1);
  CHECK(j.recent(mc::mc_key{"ns", "none"}).empty());
  CHECK(j.size() == 4);
  // Thousands of MultiCasskops keep theirs: the text and a few bytes, not a string and a deque
  // node per summary.
  size_t text = 0;
  for (auto line : j.recent(one)) text += line.size() + 1;
  for (auto line : j.recent(two)) text += line.size() + 1;
  CHECK(j.memory_bytes() <= text + text / 4 + 2 * 160);
  j.forget(one);
  CHECK(j.size() == 1);
  CHECK(j.recent(one).empty());
}
