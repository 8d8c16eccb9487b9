// Pod operations by label (actors/casskop/logic/pod_operations.h) and the node calls of each
// operation (pod_operation_calls.h): what a user who labels pods sees in labels, status and
// Events, and what is asked of the node, step by step.
#include <doctest/doctest.h>

#include "actors/casskop/logic/node_facts.h"
#include "actors/casskop/logic/pod_operation_calls.h"
#include "actors/casskop/logic/pod_operations.h"
#include "actors/casskop/logic/pod_operations_tracker.h"

namespace {
using namespace casskop;
namespace js = k8s::json;

const std::string rack = "dc1-rack1";

observed_pod pod(const std::string& name, const std::string& ip,
                 std::map<std::string, std::string> labels = {},
                 const std::string& dc_rack = rack) {
  observed_pod p;
  p.name = name;
  p.dc_rack = dc_rack;
  p.pod_ip = ip;
  p.running = true;
  p.ready = true;
  p.labels = std::move(labels);
  return p;
}

std::map<std::string, std::string> todo(const std::string& op, const std::string& arg = "") {
  std::map<std::string, std::string> l{{op_label::name, op}, {op_label::status, status::to_do}};
  if (!arg.empty()) l[op_label::argument] = arg;
  return l;
}

cluster_status idle_cluster() {
  cluster_status s;
  s.phase = phase::running;
  s.last_cluster_action = action::scale_up;
  s.last_cluster_action_status = status::done;
  s.racks[rack].phase = phase::running;
  s.racks["dc2-rack1"].phase = phase::running;
  return s;
}

struct pass {
  std::vector<observed_pod> pods;
  std::optional<bool> joining = false;
  std::set<std::string> in_flight;
  std::vector<operation_outcome> finished;
  pod_operations_plan run(cluster_status& s) const {
    pod_operations_input in{
        pods, joining, in_flight, finished, "casskop-0", "2026-12-05T15:00:00Z", "20261205T150000"};
    return plan_pod_operations(in, s);
  }
};

const pod_label_patch* patch_of(const pod_operations_plan& p, const std::string& pod) {
  for (const auto& x : p.patches)
    if (x.pod == pod) return &x;
  return nullptr;
}

std::string label_in(const pod_operations_plan& p, const std::string& pod, const char* key) {
  const pod_label_patch* x = patch_of(p, pod);
  if (!x) return "(no patch)";
  auto it = x->labels.find(key);
  return it == x->labels.end() ? "(unset)" : it->second;
}

bool has_event(const pod_operations_plan& p, const std::string& reason, const std::string& part) {
  for (const auto& e : p.events)
    if (e.reason == reason && e.message.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("casskop pod operations: cleanup on two pods goes Ongoing then Done with podsOK") {
  cluster_status s = idle_cluster();
  pass p;
  p.pods = {pod("cc-dc1-rack1-0", "127.1.0.1", todo(pod_op::cleanup)),
            pod("cc-dc1-rack1-1", "127.1.0.2", todo(pod_op::cleanup)),
            pod("cc-dc1-rack1-2", "127.1.0.3")};
  auto plan = p.run(s);
  REQUIRE(plan.start.size() == 2);
  CHECK(plan.start[0].operation == "cleanup");
  CHECK(plan.start[0].pod_ip == "127.1.0.1");
  CHECK_FALSE(plan.start[0].resume);
  CHECK(label_in(plan, "cc-dc1-rack1-0", op_label::status) == "Ongoing");
  CHECK(label_in(plan, "cc-dc1-rack1-0", op_label::start) == "20261205T150000");
  CHECK(label_in(plan, "cc-dc1-rack1-0", op_label::end) == "");
  CHECK(patch_of(plan, "cc-dc1-rack1-2") == nullptr);
  const pod_last_operation& op = s.racks[rack].pod_last_op;
  CHECK(op.name == "cleanup");
  CHECK(op.status == "Ongoing");
  CHECK(op.start_time == "2026-12-05T15:00:00Z");
  CHECK(op.operator_name == "casskop-0");
  CHECK(op.pods == std::vector<std::string>{"cc-dc1-rack1-0", "cc-dc1-rack1-1"});

  // The next pass: the runner works on both, the cache still says ToDo: nothing again.
  p.in_flight = {"cc-dc1-rack1-0", "cc-dc1-rack1-1"};
  auto again = p.run(s);
  CHECK(again.start.empty());
  CHECK(again.patches.empty());

  // One ends; the other is still running.
  p.pods[0].labels[op_label::status] = status::ongoing;
  p.pods[1].labels[op_label::status] = status::ongoing;
  p.finished = {{"cc-dc1-rack1-0", rack, "cleanup", true, ""}};
  auto one = p.run(s);
  CHECK(label_in(one, "cc-dc1-rack1-0", op_label::status) == "Done");
  CHECK(label_in(one, "cc-dc1-rack1-0", op_label::end) == "20261205T150000");
  CHECK(s.racks[rack].pod_last_op.status == "Ongoing");
  CHECK(s.racks[rack].pod_last_op.pods_ok == std::vector<std::string>{"cc-dc1-rack1-0"});

  p.finished = {{"cc-dc1-rack1-1", rack, "cleanup", true, ""}};
  auto two = p.run(s);
  CHECK(label_in(two, "cc-dc1-rack1-1", op_label::status) == "Done");
  CHECK(s.racks[rack].pod_last_op.status == "Done");
  CHECK(s.racks[rack].pod_last_op.end_time == "2026-12-05T15:00:00Z");
  CHECK(s.racks[rack].pod_last_op.pods.empty());
  CHECK(s.racks[rack].pod_last_op.pods_ok ==
        std::vector<std::string>{"cc-dc1-rack1-0", "cc-dc1-rack1-1"});
  CHECK(s.racks[rack].pod_last_op.pods_ko.empty());
}

TEST_CASE(
    "casskop pod operations: a failed operation labels the pod Error, lists it in podsKO and "
    "says why in a Warning Event") {
  cluster_status s = idle_cluster();
  pass p;
  p.pods = {pod("cc-dc1-rack1-0", "127.1.0.1", todo(pod_op::upgradesstables))};
  p.run(s);
  p.pods[0].labels[op_label::status] = status::ongoing;
  p.in_flight = {"cc-dc1-rack1-0"};
  p.finished = {{"cc-dc1-rack1-0", rack, "upgradesstables", false, "HTTP 401 Unauthorized"}};
  auto plan = p.run(s);
  CHECK(label_in(plan, "cc-dc1-rack1-0", op_label::status) == "Error");
  CHECK(s.racks[rack].pod_last_op.pods_ko == std::vector<std::string>{"cc-dc1-rack1-0"});
  CHECK(s.racks[rack].pod_last_op.status == "Done");
  CHECK(has_event(plan, "PodOperationFailed", "HTTP 401 Unauthorized"));
}

TEST_CASE(
    "casskop pod operations: nothing starts while a node joins, its state is unknown, or the "
    "cluster's last action is not Done") {
  pass p;
  p.pods = {pod("cc-dc1-rack1-0", "127.1.0.1", todo(pod_op::cleanup))};
  SUBCASE("joining") {
    cluster_status s = idle_cluster();
    p.joining = true;
    auto plan = p.run(s);
    CHECK(plan.start.empty());
    CHECK(plan.patches.empty());
    CHECK(plan.waiting.find("joining") != std::string::npos);
    CHECK(s.racks[rack].pod_last_op.status.empty());
  }
  SUBCASE("unknown") {
    cluster_status s = idle_cluster();
    p.joining.reset();
    auto plan = p.run(s);
    CHECK(plan.start.empty());
    CHECK_FALSE(plan.waiting.empty());
  }
  SUBCASE("action under way") {
    cluster_status s = idle_cluster();
    s.last_cluster_action_status = status::ongoing;
    auto plan = p.run(s);
    CHECK(plan.start.empty());
    CHECK(plan.waiting.find("Done") != std::string::npos);
  }
}

TEST_CASE(
    "casskop pod operations: an unknown operation-name is labelled Error with a Warning "
    "Event, not ignored") {
  cluster_status s = idle_cluster();
  pass p;
  p.pods = {pod("cc-dc1-rack1-0", "127.1.0.1", todo("compact"))};
  auto plan = p.run(s);
  CHECK(plan.start.empty());
  CHECK(label_in(plan, "cc-dc1-rack1-0", op_label::status) == "Error");
  CHECK(has_event(plan, "PodOperationUnknown", "'compact'"));
  // Manual (cleanup after a scale-up without autoPilot) waits for the user.
  cluster_status s2 = idle_cluster();
  pass m;
  m.pods = {pod("cc-dc1-rack1-0", "127.1.0.1",
                {{op_label::name, "cleanup"}, {op_label::status, status::manual}})};
  auto manual = m.run(s2);
  CHECK(manual.start.empty());
  CHECK(manual.patches.empty());
}

TEST_CASE("casskop pod operations: operation-argument is validated before anything is sent") {
  cluster_status s = idle_cluster();
  pass p;
  p.pods = {pod("cc-dc1-rack1-0", "127.1.0.1", todo(pod_op::rebuild)),
            pod("cc-dc1-rack1-1", "127.1.0.2", todo(pod_op::remove, "cc-dc1-rack1-2_300.1.2.3")),
            pod("cc-dc1-rack1-3", "127.1.0.4", todo(pod_op::remove, "gone-pod")),
            pod("cc-dc1-rack1-4", "127.1.0.5", todo(pod_op::remove, "cc-dc1-rack1-4"))};
  // rebuild runs before remove (one type at a time per rack): a first pass for rebuild.
  auto first = p.run(s);
  CHECK(first.start.empty());
  CHECK(label_in(first, "cc-dc1-rack1-0", op_label::status) == "Error");
  CHECK(has_event(first, "PodOperationFailed", "datacenter name to rebuild from"));
  CHECK(s.racks[rack].pod_last_op.name == "rebuild");
  CHECK(s.racks[rack].pod_last_op.pods_ko == std::vector<std::string>{"cc-dc1-rack1-0"});
  CHECK(s.racks[rack].pod_last_op.status == "Done");

  p.pods[0].labels[op_label::status] = status::error;
  auto second = p.run(s);
  CHECK(second.start.empty());
  CHECK(has_event(second, "PodOperationFailed", "300.1.2.3 is not an IP address"));
  CHECK(has_event(second, "PodOperationFailed", "provide its old IP"));
  CHECK(has_event(second, "PodOperationFailed", "cannot remove itself"));
  CHECK(s.racks[rack].pod_last_op.name == "remove");
  CHECK(s.racks[rack].pod_last_op.pods_ko.size() == 3);
}

TEST_CASE(
    "casskop pod operations: remove takes the dead pod's IP when the argument names only "
    "the pod") {
  cluster_status s = idle_cluster();
  pass p;
  observed_pod dead = pod("cc-dc1-rack1-2", "127.1.0.3");
  dead.running = false;
  dead.ready = false;
  p.pods = {pod("cc-dc1-rack1-0", "127.1.0.1", todo(pod_op::remove, "cc-dc1-rack1-2")), dead};
  auto plan = p.run(s);
  REQUIRE(plan.start.size() == 1);
  CHECK(plan.start[0].target.pod == "cc-dc1-rack1-2");
  CHECK(plan.start[0].target.ip == "127.1.0.3");

  std::string error;
  CHECK(parse_remove_argument("_10.0.0.7", error)->ip == "10.0.0.7");
  CHECK(parse_remove_argument("_10.0.0.7", error)->pod.empty());
  CHECK(parse_remove_argument("p_fe80::1", error)->ip == "fe80::1");
  CHECK_FALSE(parse_remove_argument("_", error));
  CHECK_FALSE(parse_remove_argument("", error));
  CHECK_FALSE(is_ip_address("10.0.0"));
  CHECK_FALSE(is_ip_address("10.0.0.256"));
  CHECK(is_ip_address("127.42.0.1"));
}

TEST_CASE(
    "casskop pod operations: after a restart, an Ongoing pod nobody works on is resumed by "
    "watching the node") {
  cluster_status s = idle_cluster();
  s.racks[rack].pod_last_op = {"cleanup",
                               "Ongoing",
                               "2026-12-05T14:00:00Z",
                               "",
                               "casskop-old",
                               {"cc-dc1-rack1-0", "cc-dc1-rack1-1"},
                               {},
                               {}};
  pass p;
  auto ongoing = [](const std::string& op) {
    return std::map<std::string, std::string>{{op_label::name, op},
                                              {op_label::status, status::ongoing}};
  };
  auto done = std::map<std::string, std::string>{{op_label::name, "cleanup"},
                                                 {op_label::status, status::done}};
  p.pods = {pod("cc-dc1-rack1-0", "127.1.0.1", ongoing("cleanup")),
            pod("cc-dc1-rack1-1", "127.1.0.2", done)};
  auto plan = p.run(s);
  REQUIRE(plan.start.size() == 1);
  CHECK(plan.start[0].pod == "cc-dc1-rack1-0");
  CHECK(plan.start[0].resume);
  CHECK(plan.patches.empty());  // the labels stay as they are
  const pod_last_operation& op = s.racks[rack].pod_last_op;
  CHECK(op.status == "Ongoing");
  CHECK(op.operator_name == "casskop-0");
  CHECK(op.start_time == "2026-12-05T14:00:00Z");
  // The pod whose label already said Done (its status write was lost) is settled.
  CHECK(op.pods == std::vector<std::string>{"cc-dc1-rack1-0"});
  CHECK(op.pods_ok == std::vector<std::string>{"cc-dc1-rack1-1"});

  // Once the runner has it, it is not resumed twice.
  p.in_flight = {"cc-dc1-rack1-0"};
  CHECK(p.run(s).start.empty());

  // A listed pod that is gone ends in podsKO.
  cluster_status g = idle_cluster();
  g.racks[rack].pod_last_op = {"cleanup", "Ongoing", "t", "", "x", {"cc-dc1-rack1-9"}, {}, {}};
  pass none;
  auto gone = none.run(g);
  CHECK(g.racks[rack].pod_last_op.pods_ko == std::vector<std::string>{"cc-dc1-rack1-9"});
  CHECK(g.racks[rack].pod_last_op.status == "Done");
  CHECK(has_event(gone, "PodOperationFailed", "the pod is gone"));
}

TEST_CASE(
    "casskop pod operations: one operation type at a time per rack, racks independent, "
    "decommission left to scale-down") {
  cluster_status s = idle_cluster();
  s.racks[rack].pod_last_op = {"cleanup",   "Ongoing",          "t", "",
                               "casskop-0", {"cc-dc1-rack1-0"}, {},  {}};
  s.racks["dc3-rack1"].pod_last_op = {"decommission",     "Ongoing", "t", "", "",
                                      {"cc-dc3-rack1-1"}, {},        {}};
  pass p;
  p.in_flight = {"cc-dc1-rack1-0"};
  p.pods = {
      pod("cc-dc1-rack1-0", "127.1.0.1",
          {{op_label::name, "cleanup"}, {op_label::status, status::ongoing}}),
      pod("cc-dc1-rack1-1", "127.1.0.2", todo(pod_op::rebuild, "dc2")),
      pod("cc-dc2-rack1-0", "127.2.0.1", todo(pod_op::rebuild, "dc1"), "dc2-rack1"),
      pod("cc-dc3-rack1-1", "127.3.0.2",
          {{op_label::name, "decommission"}, {op_label::status, status::ongoing}}, "dc3-rack1")};
  auto plan = p.run(s);
  REQUIRE(plan.start.size() == 1);
  CHECK(plan.start[0].pod == "cc-dc2-rack1-0");
  CHECK(plan.start[0].argument == "dc1");
  CHECK(plan.waiting.find("rebuild waits for cleanup") != std::string::npos);
  CHECK(s.racks["dc3-rack1"].pod_last_op.name == "decommission");
  CHECK(s.racks["dc3-rack1"].pod_last_op.pods == std::vector<std::string>{"cc-dc3-rack1-1"});
}

TEST_CASE(
    "casskop pod operations: cleanup labels after a ScaleUp, ToDo with autoPilot, Manual "
    "without, on every pod of the rack by name, also one the Pods cache does not show Running "
    "yet, never one being deleted") {
  observed_pod pending = pod("cc-dc1-rack1-2", "");
  pending.running = false;  // the cache lags: the StatefulSet already counts it Ready
  observed_pod leaving = pod("cc-dc1-rack1-1", "127.1.0.2");
  leaving.deleting = true;
  std::vector<observed_pod> pods = {pod("cc-dc1-rack1-0", "127.1.0.1"), leaving, pending,
                                    pod("cc-dc2-rack1-0", "127.2.0.1", {}, "dc2-rack1")};
  const std::vector<std::string> rack_pods = {"cc-dc1-rack1-0", "cc-dc1-rack1-1", "cc-dc1-rack1-2",
                                              "cc-dc1-rack1-3"};
  auto auto_pilot = cleanup_labels_after_scale_up(pods, rack_pods, true);
  REQUIRE(auto_pilot.size() == 3);
  CHECK(auto_pilot[0].pod == "cc-dc1-rack1-0");
  CHECK(auto_pilot[1].pod == "cc-dc1-rack1-2");
  CHECK(auto_pilot[2].pod == "cc-dc1-rack1-3");  // not in the cache at all yet
  CHECK(auto_pilot[0].labels.at(op_label::name) == "cleanup");
  CHECK(auto_pilot[0].labels.at(op_label::status) == "ToDo");
  auto manual = cleanup_labels_after_scale_up(pods, rack_pods, false);
  REQUIRE(manual.size() == 3);
  CHECK(manual[1].labels.at(op_label::status) == "Manual");
  CHECK(js::to_string(label_patch_body(manual[1])) ==
        R"({"metadata":{"labels":{"operation-name":"cleanup","operation-status":"Manual"}}})");
}

TEST_CASE("casskop pod operations: label time as v2.1.0 writes it, and pods read from JSON") {
  using namespace std::chrono;
  CHECK(label_time(system_clock::time_point(seconds(1764947559))) == "20251205T151239");
  auto doc = js::parse(R"({"metadata":{"name":"cc-dc1-rack1-0","labels":{
    "cassandraclusters.db.orange.com.dc":"dc1","cassandraclusters.db.orange.com.rack":"rack1",
    "operation-name":"cleanup"}},"status":{"phase":"Running","podIP":"127.3.0.4",
    "containerStatuses":[{"name":"cassandra","ready":true}]}})");
  observed_pod p = observe_pod(doc);
  CHECK(p.dc_rack == "dc1-rack1");
  CHECK(p.pod_ip == "127.3.0.4");
  CHECK(p.running);
  CHECK(p.ready);
  CHECK_FALSE(p.deleting);
  CHECK(p.label(op_label::name) == "cleanup");
}

// ---- node calls ----

namespace {

step_answer ok_value(const std::string& json) {
  step_answer a;
  a.reply.status = 200;
  a.reply.body = R"({"request":{},"value":)" + json + R"(,"timestamp":1528850319,"status":200})";
  return a;
}
step_answer error_answer(const char* java_error) {  // a JMX exception: HTTP 200, status 500
  step_answer a;
  a.reply.status = 200;
  a.reply.body =
      std::string(R"({"status":500,"error_type":"java.lang.IllegalArgumentException",)") +
      R"("error":")" + java_error + R"("})";
  return a;
}
step_answer unauthorized() {
  step_answer a;
  a.reply.status = 401;
  return a;
}
step_answer refused() {
  step_answer a;
  a.reply.transport.kind = jolokia::failure::refused;
  a.reply.transport.message = "connection refused";
  return a;
}
step_answer timeout_answer() {
  step_answer a;
  a.reply.transport.kind = jolokia::failure::timeout;
  return a;
}

operation_job job_for(const std::string& op, const std::string& arg = "") {
  operation_job j;
  j.pod = "cc-dc1-rack1-0";
  j.dc_rack = rack;
  j.pod_ip = "127.1.0.1";
  j.operation = op;
  j.argument = arg;
  return j;
}

std::string args_of(const operation_step& s) {
  return s.call.arguments;
}

}  // namespace

TEST_CASE(
    "casskop pod operation calls: cleanup reads Keyspaces then cleans each but system and "
    "system_schema") {
  operation_calls c(job_for(pod_op::cleanup));
  auto s = c.next(nullptr);
  REQUIRE(s.what == operation_step::kind::call);
  CHECK(s.call.type == "READ");
  CHECK(s.call.mbean == jolokia::storage_service);
  CHECK(s.call.name == "Keyspaces");
  auto ks = ok_value(R"(["system","system_schema","system_auth","app"])");
  s = c.next(&ks);
  CHECK(s.call.type == "EXEC");
  CHECK(s.call.long_running);
  CHECK(s.call.name == "forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)");
  CHECK(args_of(s) == R"(["system_auth",[]])");
  auto zero = ok_value("0");
  s = c.next(&zero);
  CHECK(args_of(s) == R"(["app",[]])");
  s = c.next(&zero);
  CHECK(s.what == operation_step::kind::done);
}

TEST_CASE(
    "casskop pod operation calls: a cleanup that outlives the timeout is watched through "
    "Compactions, then goes on") {
  operation_calls c(job_for(pod_op::cleanup));
  c.next(nullptr);
  auto ks = ok_value(R"(["a","b"])");
  c.next(&ks);
  auto t = timeout_answer();
  auto s = c.next(&t);
  REQUIRE(s.what == operation_step::kind::call);
  CHECK(s.call.mbean == "org.apache.cassandra.db:type=CompactionManager");
  CHECK(s.call.name == "Compactions");
  auto busy = ok_value(R"([{"taskType":"Cleanup","keyspace":"a"}])");
  s = c.next(&busy);
  CHECK(s.what == operation_step::kind::pause);
  s = c.next(nullptr);
  CHECK(s.call.name == "Compactions");
  auto other = ok_value(R"([{"taskType":"Compaction","keyspace":"a"}])");
  s = c.next(&other);
  REQUIRE(s.what == operation_step::kind::call);
  CHECK(args_of(s) == R"(["b",[]])");
  auto zero = ok_value("0");
  CHECK(c.next(&zero).what == operation_step::kind::done);
}

TEST_CASE("casskop pod operation calls: errors end the operation with the node's words") {
  operation_calls c(job_for(pod_op::cleanup));
  c.next(nullptr);
  auto e = unauthorized();
  auto s = c.next(&e);
  CHECK(s.what == operation_step::kind::failed);
  CHECK(s.error.find("reading Keyspaces: unauthorized 401") == 0);

  operation_calls u(job_for(pod_op::upgradesstables));
  u.next(nullptr);
  auto ks = ok_value(R"(["system","app"])");
  s = u.next(&ks);
  CHECK(s.call.name == "upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)");
  CHECK(args_of(s) == R"(["system",true,0,[]])");  // upgradesstables: every keyspace
  auto bad = error_answer("java.lang.IllegalArgumentException : Unknown keyspace/cf pair (system)");
  s = u.next(&bad);
  CHECK(s.what == operation_step::kind::failed);
  CHECK(s.error.find("upgradesstables of keyspace system: ") == 0);
  CHECK(s.error.find("Unknown keyspace/cf pair (system)") != std::string::npos);
}

TEST_CASE("casskop pod operation calls: rebuild checks the ring for the source DC first") {
  const char* ring_dc1 =
      R"x(["TokenRange(start_token:1, end_token:2, endpoints:[127.1.0.1], rpc_endpoints:[127.1.0.1], endpoint_details:[EndpointDetails(host:127.1.0.1, datacenter:dc1, rack:rack1)])"])x";
  const char* ring_dc10 =
      R"x(["TokenRange(start_token:1, end_token:2, endpoints:[127.1.0.1], rpc_endpoints:[127.1.0.1], endpoint_details:[EndpointDetails(host:127.1.0.1, datacenter:dc10, rack:rack1)])"])x";

  operation_calls c(job_for(pod_op::rebuild, "dc1"));
  c.next(nullptr);
  auto ks = ok_value(R"(["system","system_schema","app","other"])");
  auto s = c.next(&ks);
  CHECK(s.call.name == "describeRingJMX");
  CHECK(args_of(s) == R"(["app"])");
  auto ten = ok_value(ring_dc10);
  s = c.next(&ten);
  CHECK(args_of(s) == R"(["other"])");
  auto one = ok_value(ring_dc1);
  s = c.next(&one);
  CHECK(s.call.name == "rebuild(java.lang.String)");
  CHECK(args_of(s) == R"(["dc1"])");
  auto t = timeout_answer();
  s = c.next(&t);
  CHECK(s.call.mbean == "org.apache.cassandra.net:type=StreamManager");
  CHECK(s.call.name == "CurrentStreams");
  auto idle = ok_value("[]");
  CHECK(c.next(&idle).what == operation_step::kind::done);

  operation_calls none(job_for(pod_op::rebuild, "dc1"));
  none.next(nullptr);
  auto only = ok_value(R"(["app"])");
  none.next(&only);
  s = none.next(&ten);
  CHECK(s.what == operation_step::kind::failed);
  CHECK(s.error == "dc1 has no keyspace to replicate data from");
}

TEST_CASE(
    "casskop pod operation calls: remove finds the host id, removes the node, deletes its "
    "PVC then force-deletes its pod") {
  operation_job j = job_for(pod_op::remove, "cc-dc1-rack1-2");
  j.target = {"cc-dc1-rack1-2", "127.1.0.3"};
  operation_calls c(j, 30, 2);
  auto s = c.next(nullptr);
  CHECK(s.call.name == "HostIdMap");
  auto map = ok_value(R"({"127.1.0.1":"id-1","127.1.0.3":"id-3"})");
  s = c.next(&map);
  CHECK(s.call.name == "removeNode");
  CHECK(args_of(s) == R"(["id-3"])");
  auto null_value = ok_value("null");
  s = c.next(&null_value);
  CHECK(s.what == operation_step::kind::delete_pvc);
  CHECK(s.object == "data-cc-dc1-rack1-2");
  step_answer done;  // the delete went through
  s = c.next(&done);
  CHECK(s.what == operation_step::kind::await_pvc_gone);
  step_answer still;
  s = c.next(&still);
  CHECK(s.what == operation_step::kind::pause);
  s = c.next(nullptr);
  CHECK(s.what == operation_step::kind::await_pvc_gone);
  step_answer gone;
  gone.gone = true;
  s = c.next(&gone);
  CHECK(s.what == operation_step::kind::force_delete_pod);
  CHECK(s.object == "cc-dc1-rack1-2");
  CHECK(c.next(&done).what == operation_step::kind::done);

  operation_calls missing(j);
  missing.next(nullptr);
  auto other = ok_value(R"({"127.1.0.1":"id-1"})");
  s = missing.next(&other);
  CHECK(s.what == operation_step::kind::failed);
  CHECK(s.error == "host with IP '127.1.0.3' not found in hostIdMap");
}

TEST_CASE(
    "casskop pod operation calls: a resumed job only watches, and gives up after too many "
    "failed polls") {
  operation_job j = job_for(pod_op::upgradesstables);
  j.resume = true;
  operation_calls c(j, 2);
  auto s = c.next(nullptr);
  CHECK(s.call.name == "Compactions");
  auto busy = ok_value(R"([{"taskType":"Upgrade sstables"}])");
  CHECK(c.next(&busy).what == operation_step::kind::pause);
  c.next(nullptr);
  auto idle = ok_value("[]");
  CHECK(c.next(&idle).what == operation_step::kind::done);

  operation_calls d(j, 2);
  d.next(nullptr);
  auto e = refused();
  CHECK(d.next(&e).what == operation_step::kind::pause);
  d.next(nullptr);
  CHECK(d.next(&e).what == operation_step::kind::pause);
  d.next(nullptr);
  s = d.next(&e);
  CHECK(s.what == operation_step::kind::failed);
  CHECK(s.error.find("connection refused") != std::string::npos);

  operation_job r = job_for(pod_op::remove, "_127.1.0.3");
  r.target = {"", "127.1.0.3"};
  r.resume = true;
  operation_calls rc(r);
  s = rc.next(nullptr);
  CHECK(s.call.name == "LeavingNodes");
  auto leaving = ok_value(R"(["127.1.0.3"])");
  CHECK(rc.next(&leaving).what == operation_step::kind::pause);
  rc.next(nullptr);
  auto left = ok_value("[]");
  CHECK(rc.next(&left).what == operation_step::kind::done);  // only an IP: nothing to delete
}

// ---- the reconciler's memory between passes ----

TEST_CASE(
    "casskop pod operations tracker: an ended job stays fenced until the cache shows its "
    "label, and outcomes of a failed pass come again") {
  pod_operations_tracker t;
  std::vector<observed_pod> pods = {pod("cc-dc1-rack1-0", "127.1.0.1", todo(pod_op::cleanup))};

  // Whether a node joins is the caller's (the node prober's answer): passed through.
  CHECK(t.has_waiting("cc", pods));
  CHECK_FALSE(t.input("cc", pods, std::nullopt, "casskop", "now", "label").nodes_joining);
  t.pass_ended("cc", true);
  CHECK(t.input("cc", pods, false, "casskop", "now", "label").nodes_joining ==
        std::optional<bool>(false));
  operation_job job;
  job.pod = "cc-dc1-rack1-0";
  t.started("cc", {job});
  t.pass_ended("cc", true);
  CHECK_FALSE(t.has_waiting("cc", pods));  // the runner works on it

  pods[0].labels[op_label::status] = status::ongoing;
  t.ended("cc", {"cc-dc1-rack1-0", rack, "cleanup", true, ""});
  {
    auto in = t.input("cc", pods, false, "casskop", "now", "label");
    CHECK(in.finished.size() == 1);
    CHECK(in.in_flight.count("cc-dc1-rack1-0"));  // the cache still says Ongoing
  }
  t.pass_ended("cc", false);  // a write failed: offered again
  CHECK(t.input("cc", pods, false, "casskop", "now", "label").finished.size() == 1);
  t.pass_ended("cc", true);
  pods[0].labels[op_label::status] = status::done;
  auto in = t.input("cc", pods, false, "casskop", "now", "label");
  CHECK(in.finished.empty());
  CHECK(in.in_flight.empty());
}

TEST_CASE("casskop pod operations: joining nodes as the node prober answered them") {
  node_facts f;
  CHECK_FALSE(joining_for_pod_operations(f));  // not asked yet: wait
  f.joining = true;
  CHECK(joining_for_pod_operations(f) == std::optional<bool>(true));
  f.joining.reset();
  f.joining_error.kind = jolokia::failure::timeout;  // unreadable: wait, as v2.1.0
  CHECK_FALSE(joining_for_pod_operations(f));
  // Credentials fail every call alike: the operations start and end Error with the reason.
  f.joining_error.kind = jolokia::failure::unauthorized;
  CHECK(joining_for_pod_operations(f) == std::optional<bool>(false));
  f.joining_error.kind = jolokia::failure::no_credentials;
  CHECK(joining_for_pod_operations(f) == std::optional<bool>(false));
}
