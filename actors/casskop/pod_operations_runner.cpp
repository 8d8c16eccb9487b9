#include "actors/casskop/pod_operations_runner.h"

#include <map>
#include <optional>

#include <caf/all.hpp>

#include "actors/casskop/logic/pod_operation_calls.h"
#include "k8s/api/client.h"
#include "k8s/base/log.h"
#include "messages/casskop/atoms.h"

namespace casskop {

namespace {

const k8s::resource pods{"", "v1", "pods", "Pod", true};
const k8s::resource pvcs{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
const k8s::resource secrets{"", "v1", "secrets", "Secret", true};

struct running_job {
  std::string cluster;
  operation_calls calls;
  uint64_t generation = 0;  // answers of an older run of the same key are dropped
};

struct runner_state {
  pod_operations_runner_settings settings;
  std::map<std::string, running_job> jobs;  // by "<cluster>/<pod>"
  uint64_t next_generation = 1;
  static inline const char* name = "casskop-pod-operations";
};

using self_ptr = caf::stateful_actor<runner_state>*;

std::string key_of(const std::string& cluster, const std::string& pod) {
  return cluster + "/" + pod;
}

void finish(self_ptr self, const std::string& key, bool ok, const std::string& error) {
  auto& st = self->state;
  auto it = st.jobs.find(key);
  if (it == st.jobs.end()) return;
  const operation_job& job = it->second.calls.job();
  operation_outcome out{job.pod, job.dc_rack, job.operation, ok, error};
  k8s::log::write(ok ? k8s::log::level::info : k8s::log::level::warning,
                  ok ? "Pod operation done" : "Pod operation failed",
                  {{"cluster", it->second.cluster},
                   {"rack", job.dc_rack},
                   {"pod", job.pod},
                   {"operation", job.operation},
                   {"error", error}});
  self->send(st.settings.reconciler, pod_op_done_atom::value, it->second.cluster, std::move(out));
  st.jobs.erase(it);
}

// Carries out the step the job's calls ask for; answers come back as pod_op_step messages.
void carry_out(self_ptr self, const std::string& key, const step_answer* answer) {
  auto& st = self->state;
  auto it = st.jobs.find(key);
  if (it == st.jobs.end()) return;
  running_job& rj = it->second;
  operation_step step = rj.calls.next(answer);
  auto me = caf::actor_cast<caf::actor>(self);
  const uint64_t gen = rj.generation;
  const std::string cluster = rj.cluster;
  if (!step.note.empty())
    k8s::log::info(step.note, {{"cluster", cluster},
                               {"pod", rj.calls.job().pod},
                               {"operation", rj.calls.job().operation}});
  switch (step.what) {
    case operation_step::kind::call:
      k8s::log::debug(
          "Pod operation call",
          {{"cluster", cluster}, {"pod", rj.calls.job().pod}, {"call", step.call.describe()}});
      st.settings.call(rj.calls.job().jolokia_secret, rj.calls.job().pod_ip, step.call,
                       [me, key, gen](jolokia::http_reply r) {
                         caf::anon_send(me, pod_op_step_atom::value, key, gen, std::move(r));
                       });
      return;
    case operation_step::kind::pause:
      self->delayed_send(
          self, step.object.empty() ? st.settings.poll_interval : st.settings.pvc_poll_interval,
          pod_op_tick_atom::value, key, gen);
      return;
    case operation_step::kind::delete_pvc:
    case operation_step::kind::force_delete_pod: {
      if (!st.settings.client) {
        step_answer a;
        a.k8s_error = "no Kubernetes client";
        return carry_out(self, key, &a);
      }
      const bool pvc = step.what == operation_step::kind::delete_pvc;
      k8s::log::info(pvc ? "RemoveNode done: deleting its PVC" : "Deleting the removed node's pod",
                     {{"cluster", cluster}, {"object", step.object}});
      // v2.1.0 ForceDeletePod: grace period 0 (the removed node's pod has nothing to stop).
      k8s::delete_options options;
      if (!pvc) options.grace_period_seconds = 0;
      st.settings.client->remove(pvc ? pvcs : pods, st.settings.namespace_name, step.object,
                                 options, [me, key, gen](k8s::result<k8s::object_ptr> r) {
                                   std::string error;
                                   if (!r.ok() && r.error().kind != k8s::error_kind::not_found)
                                     error = r.error().describe();
                                   caf::anon_send(me, pod_op_step_atom::value, key, gen, error,
                                                  false);
                                 });
      return;
    }
    case operation_step::kind::await_pvc_gone: {
      if (!st.settings.client) {
        step_answer a;
        a.gone = true;
        return carry_out(self, key, &a);
      }
      st.settings.client->get(pvcs, st.settings.namespace_name, step.object,
                              [me, key, gen](k8s::result<k8s::object_ptr> r) {
                                bool gone = !r.ok() && r.error().kind == k8s::error_kind::not_found;
                                caf::anon_send(me, pod_op_step_atom::value, key, gen, std::string(),
                                               gone);
                              });
      return;
    }
    case operation_step::kind::done:
      return finish(self, key, true, "");
    case operation_step::kind::failed:
      return finish(self, key, false, step.error);
  }
}

bool current(self_ptr self, const std::string& key, uint64_t gen) {
  auto it = self->state.jobs.find(key);
  return it != self->state.jobs.end() && it->second.generation == gen;
}

caf::behavior runner(self_ptr self, pod_operations_runner_settings s) {
  self->state.settings = std::move(s);
  return {
      [=](pod_op_start_atom, const std::string& cluster, const operation_job& job) {
        auto& st = self->state;
        std::string key = key_of(cluster, job.pod);
        if (st.jobs.count(key)) return;
        k8s::log::info(
            job.resume ? "Resuming a pod operation: watching the node" : "Starting a pod operation",
            {{"cluster", cluster},
             {"rack", job.dc_rack},
             {"pod", job.pod},
             {"operation", job.operation},
             {"argument", job.argument}});
        st.jobs.emplace(key, running_job{cluster, operation_calls(job), st.next_generation++});
        carry_out(self, key, nullptr);
      },
      [=](pod_op_step_atom, const std::string& key, uint64_t gen, jolokia::http_reply& r) {
        if (!current(self, key, gen)) return;
        step_answer a;
        a.reply = std::move(r);
        carry_out(self, key, &a);
      },
      [=](pod_op_step_atom, const std::string& key, uint64_t gen, const std::string& error,
          bool gone) {
        if (!current(self, key, gen)) return;
        step_answer a;
        a.k8s_error = error;
        a.gone = gone;
        carry_out(self, key, &a);
      },
      [=](pod_op_tick_atom, const std::string& key, uint64_t gen) {
        if (!current(self, key, gen)) return;
        carry_out(self, key, nullptr);
      },
  };
}

}  // namespace

node_caller jolokia_node_caller(std::shared_ptr<jolokia_client> jolokia,
                                std::shared_ptr<k8s::client> client, std::string ns) {
  return [jolokia, client, ns](const std::string& secret, const std::string& ip,
                               const jolokia::request& request,
                               std::function<void(jolokia::http_reply)> done) {
    if (secret.empty()) return jolokia->call(ip, request, std::nullopt, std::move(done));
    auto refuse = [&done](std::string why) {
      jolokia::http_reply r;
      r.transport = {jolokia::failure::no_credentials, 0, "", std::move(why)};
      done(std::move(r));
    };
    if (!client) return refuse("Secret " + secret + ": no Kubernetes client");
    client->get(secrets, ns, secret,
                [jolokia, ip, request, secret, done](k8s::result<k8s::object_ptr> res) {
                  jolokia::http_reply r;
                  r.transport.kind = jolokia::failure::no_credentials;
                  if (!res.ok()) {
                    r.transport.message = "Secret " + secret + ": " + res.error().describe();
                    return done(std::move(r));
                  }
                  std::string problem;
                  auto creds = jolokia::credentials_from_secret(*res.value(), problem);
                  if (!creds) {
                    r.transport.message = "Secret " + secret + ": " + problem;
                    return done(std::move(r));
                  }
                  jolokia->call(ip, request, creds, done);
                });
  };
}

caf::actor spawn_pod_operations_runner(caf::actor_system& sys, pod_operations_runner_settings s) {
  return sys.spawn(runner, std::move(s));
}

}  // namespace casskop
