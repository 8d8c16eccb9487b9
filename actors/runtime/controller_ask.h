// What a controller's admin routes use to question its running root actor, and the error body
// they answer with. Both controllers of the repository answer their routes this way.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <caf/all.hpp>

#include "actors/runtime/controller.h"
#include "k8s/json/json.h"

namespace runtime {

// An admin answer {"error": message}.
inline admin_reply admin_error(int status, const std::string& message) {
  k8s::json::Document d(rapidjson::kObjectType);
  d.AddMember("error", k8s::json::string_value(message, d.GetAllocator()), d.GetAllocator());
  return {status, k8s::json::to_string(d)};
}

// Asks `root` for a string answer; nullopt when there is no actor or no answer within 2 s.
template <class... Ts>
std::optional<std::string> ask_string(caf::actor_system* system, const caf::actor& root, Ts... xs) {
  if (!root || !system) return std::nullopt;
  caf::scoped_actor self{*system};
  std::optional<std::string> out;
  self->request(root, std::chrono::seconds(2), xs...)
      .receive([&](const std::string& s) { out = s; }, [&](caf::error&) {});
  return out;
}

}  // namespace runtime
