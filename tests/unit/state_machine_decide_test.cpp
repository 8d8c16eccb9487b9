// evolve and decide: deciding changes nothing, issued commands are not decided again, the same
// events give the same state, and a replayed journal gives the decisions of the live run.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "actors/multicasskop/journal_file.h"
#include "actors/multicasskop/logic/inspect.h"
#include "actors/multicasskop/logic/journal.h"
#include "actors/multicasskop/logic/replay.h"
#include "tests/unit/multicasskop_world.h"

using testworld::fake_world;
namespace js = k8s::json;

namespace {

const char* two_regions =
    R"({"base":{"metadata":{"name":"c","namespace":"ns"},"spec":{}},"override":{"a":{},"b":{}}})";

std::vector<std::string> summaries(const std::vector<mc::command>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(mc::summarize_command(c));
  return out;
}

mc::object_ptr copy(const js::Value& v) {
  return std::make_shared<const js::Document>(js::copy_of(v));
}

// A run to Ready with a failed write on the way (a retry timer, a WriteFailed Event), every
// event journaled as the supervisor does.
fake_world converged_run() {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.fail_writes("b", true);
  w.set_multicasskop(two_regions);
  w.run(nullptr, 60);
  w.fail_writes("b", false);
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  return w;
}

}  // namespace

TEST_CASE(
    "state machine: decide() changes nothing and gives the same commands until they are issued") {
  fake_world w({"a", "b"});
  w.set_multicasskop(two_regions);
  mc::state_machine sm;
  const mc::state_machine& view = sm;
  const mc::journal none(1);
  int64_t t = 1700000000000;
  uint64_t seq = 0;
  auto evolve = [&](mc::event_body b) { sm.evolve(mc::event{++seq, t += 10, std::move(b)}); };
  evolve(mc::clusters_configured{{"a", "b"}});
  evolve(mc::cluster_health{"a", true, true, ""});
  evolve(mc::cluster_health{"b", true, true, ""});
  evolve(mc::multicasskop_seen{copy(*w.multicasskop())});

  const auto state_before = mc::inspect(sm, none);
  const auto first = view.decide();
  REQUIRE(!first.empty());
  CHECK(summaries(view.decide()) == summaries(first));
  CHECK(mc::inspect(sm, none) == state_before);
  // Our finalizer goes on first: nothing is created before it.
  const auto* finalizer = std::get_if<mc::patch_multicasskop>(&first.front());
  REQUIRE(finalizer);
  CHECK_FALSE(finalizer->status);
  for (const auto& c : first) {
    CHECK_FALSE(std::holds_alternative<mc::create_cassandracluster>(c));
    evolve(mc::issuance_of(c));
  }
  CHECK(view.decide().empty());
  CHECK(view.decide().empty());

  // A failed write: the retry timer (and nothing else) is what to do, asked for once.
  mc::write_done failed;
  failed.command_id = finalizer->id;
  failed.error.kind = k8s::error_kind::server_error;
  failed.error.http_code = 500;
  failed.error.message = "etcd is slow";
  evolve(failed);
  const auto retry = view.decide();
  CHECK(summaries(view.decide()) == summaries(retry));
  const mc::start_timer* timer = nullptr;
  for (const auto& c : retry)
    if (auto* s = std::get_if<mc::start_timer>(&c)) timer = s;
  REQUIRE(timer);
  CHECK(timer->token > finalizer->id);  // ids and tokens come from one counter in the state
  for (const auto& c : retry) evolve(mc::issuance_of(c));
  CHECK(view.decide().empty());

  // The timer goes off: the finalizer write again, with a new id.
  evolve(mc::timer_fired{timer->key, timer->cluster, timer->token});
  const auto again = view.decide();
  const mc::patch_multicasskop* rewrite = nullptr;
  for (const auto& c : again)
    if (auto* p = std::get_if<mc::patch_multicasskop>(&c); p && !p->status) rewrite = p;
  REQUIRE(rewrite);
  CHECK(rewrite->id > timer->token);
}

TEST_CASE("state machine: decisions not issued are taken again on the next event") {
  fake_world w({"a"});
  w.set_multicasskop(
      R"({"base":{"metadata":{"name":"c","namespace":"ns"},"spec":{}},"override":{"a":{}}})");
  mc::state_machine sm;
  int64_t t = 1700000000000;
  uint64_t seq = 0;
  auto evolve = [&](mc::event_body b) { sm.evolve(mc::event{++seq, t += 10, std::move(b)}); };
  evolve(mc::clusters_configured{{"a"}});
  evolve(mc::cluster_health{"a", true, true, ""});
  evolve(mc::multicasskop_seen{copy(*w.multicasskop())});
  const auto first = summaries(sm.decide());
  REQUIRE(!first.empty());
  // Another event about something else: the finalizer write is still to do, once.
  evolve(mc::cluster_health{"a", true, true, ""});
  CHECK(summaries(sm.decide()) == first);
}

TEST_CASE("state machine: the same events, issuance included, give the same state") {
  fake_world w = converged_run();
  REQUIRE(!w.journal.empty());
  mc::state_machine one, two;
  for (const auto& e : w.journal) {
    one.evolve(e);
    two.evolve(mc::decode_event(mc::encode_event(e)));  // through the journal's codec
  }
  const mc::journal none(1);
  const mc::mc_key key{"ns", "mcc"};
  CHECK(mc::inspect(one, none) == mc::inspect(two, none));
  CHECK(mc::inspect(one, none) == mc::inspect(w.machine(), none));
  CHECK(mc::inspect(one, none, &key) == mc::inspect(w.machine(), none, &key));
  auto snapshot = [](const mc::state_machine& sm) {
    std::vector<std::string> out;
    for (auto& b : sm.snapshot()) out.push_back(mc::encode_event(mc::event{0, 0, b, true}));
    return out;
  };
  CHECK(snapshot(one) == snapshot(w.machine()));
  CHECK(one.decide().empty());
}

TEST_CASE(
    "replay: a journal with issuance events gives the live run's decisions, and so does one "
    "without") {
  fake_world w = converged_run();
  const auto live = summaries(w.issued());
  size_t issued = 0;
  std::vector<std::string> lines;
  for (const auto& e : w.journal) {
    lines.push_back(mc::encode_event(e));
    if (std::holds_alternative<mc::command_issued>(e.body)) ++issued;
  }
  REQUIRE(!live.empty());
  CHECK(issued == live.size());

  mc::journal_replay with_issuance, without_issuance;
  std::vector<mc::command> replayed, replayed_old;
  for (const auto& line : lines) {
    const auto e = mc::decode_event(line);
    for (auto& c : with_issuance.feed(e)) replayed.push_back(c);
    if (std::holds_alternative<mc::command_issued>(e.body)) continue;  // a journal from before
    for (auto& c : without_issuance.feed(e)) replayed_old.push_back(c);
  }
  CHECK(summaries(replayed) == live);
  CHECK(summaries(replayed_old) == live);
  const mc::journal none(1);
  CHECK(mc::inspect(with_issuance.machine(), none) == mc::inspect(w.machine(), none));
}

TEST_CASE(
    "replay: a journal that rotated, issuance included, replays from its oldest snapshot to the "
    "end") {
  namespace fs = std::filesystem;
  fake_world w = converged_run();
  const fs::path dir = fs::temp_directory_path() / ("decide-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "journal.jsonl").string();
  {
    // The live run's journal, written as the supervisor writes it: rotated small, each new file
    // starting with a snapshot of the state machine as it is then.
    mc::state_machine live;
    mc::journal_file file;
    file.open({path, 16 * 1024, 3}, [&] { return live.snapshot(); });
    for (const auto& e : w.journal) {
      file.record(e);
      live.evolve(e);
    }
  }
  const auto files = mc::journal_files(path);
  REQUIRE(files.size() == 3);
  // As `multi-casskop replay` reads them: the oldest file from its snapshot, later snapshots
  // skipped.
  mc::journal_replay replay;
  bool fresh = true;
  size_t issued = 0;
  for (const auto& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      const auto e = mc::decode_event(line);
      if (e.snapshot && !fresh) continue;
      if (!e.snapshot) fresh = false;
      if (std::holds_alternative<mc::command_issued>(e.body)) ++issued;
      replay.feed(e);
    }
  }
  CHECK(issued > 0);
  // The state is rebuilt from the snapshot and followed to the end. (A write the live run had in
  // flight at the snapshot is decided again by the replay, under an id of its own whose answer
  // never comes: the replay may show it in flight for ever.)
  const mc::journal none(1);
  const mc::mc_key key{"ns", "mcc"};
  const auto replayed = mc::inspect(replay.machine(), none, &key);
  CHECK(replayed.find(R"({"name":"a","phase":"Ready")") != std::string::npos);
  CHECK(replay.machine().clusters() == std::vector<std::string>{"a", "b"});
  fs::remove_all(dir);
}

TEST_CASE("state machine: a MultiCasskop keeps a digest of the status it wrote, not the text") {
  // Thousands of MultiCasskops each hold what they last wrote: a digest of a few bytes tells a
  // new status from the last one as well as the text of a few KiB did.
  static_assert(std::is_same_v<decltype(mc::multicasskop_state::written_status), mc::text_digest>);
  static_assert(sizeof(mc::text_digest) <= 24);
  CHECK(mc::text_digest::of("{\"a\":1}") == mc::text_digest::of("{\"a\":1}"));
  CHECK(mc::text_digest::of("{\"a\":1}") != mc::text_digest::of("{\"a\":2}"));
  CHECK(mc::text_digest::of("x").size == 1);
  CHECK(mc::text_digest::of("").empty());

  fake_world w = converged_run();
  const auto& m = w.machine().multicasskops().begin()->second;
  CHECK_FALSE(m.written_status.empty());
  // Deciding again on the same picture writes no status: the digest says it is the same.
  const auto again = w.machine().apply({w.journal.back().seq + 1, w.journal.back().at_ms + 10,
                                        mc::cluster_health{"a", true, true, ""}});
  for (const auto& c : again) CHECK_FALSE(std::holds_alternative<mc::patch_multicasskop>(c));
}
