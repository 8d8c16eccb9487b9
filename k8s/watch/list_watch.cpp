#include "k8s/watch/list_watch.h"

namespace k8s {

using action = list_watch_action;

list_watch_action list_watch_state::start() { return relist(); }

list_watch_action list_watch_state::relist() {
  phase_ = phase::listing;
  continue_token_.clear();
  return {action::kind::list_page, "", ""};
}

list_watch_action list_watch_state::on_list_page(const list_page& page,
                                                 std::vector<watch_change>& out) {
  if (phase_ != phase::listing) return {};
  if (continue_token_.empty()) out.push_back({watch_change::kind::init_started, nullptr});
  for (const auto& item : page.items) out.push_back({watch_change::kind::init_object, item});
  if (!page.continue_token.empty()) {
    continue_token_ = page.continue_token;
    return {action::kind::list_page, continue_token_, ""};
  }
  continue_token_.clear();
  out.push_back({watch_change::kind::init_done, nullptr});
  rv_ = page.resource_version;
  phase_ = phase::listed;
  last_error_.reset();
  return {action::kind::start_watch, "", rv_};
}

list_watch_action list_watch_state::on_list_error(const api_error& e) {
  if (phase_ != phase::listing) return {};
  // An expired continue token means the snapshot is gone: start the list over.
  if (e.kind == error_kind::gone) continue_token_.clear();
  return fail_and_back_off(e, {action::kind::list_page, continue_token_, ""});
}

void list_watch_state::on_watch_opened() {
  if (phase_ != phase::listed) return;
  phase_ = phase::watching;
  last_error_.reset();  // the server answers again
}

list_watch_action list_watch_state::on_watch_event(const watch_event& e,
                                                   std::vector<watch_change>& out) {
  if (phase_ != phase::watching && phase_ != phase::listed) return {};
  phase_ = phase::watching;
  switch (e.kind) {
    case watch_event::type::added:
    case watch_event::type::modified:
      rv_ = e.resource_version;
      out.push_back({watch_change::kind::applied, e.object});
      return {};
    case watch_event::type::deleted:
      rv_ = e.resource_version;
      out.push_back({watch_change::kind::deleted, e.object});
      return {};
    case watch_event::type::bookmark:
      rv_ = e.resource_version;
      return {};
    case watch_event::type::error:
      last_error_ = e.error;
      if (e.error.kind == error_kind::gone) {
        ++relists_;
        return relist();
      }
      return fail_and_back_off(e.error, {action::kind::start_watch, "", rv_});
  }
  return {};
}

list_watch_action list_watch_state::on_garbled_line(const std::string& why) {
  if (phase_ != phase::watching && phase_ != phase::listed) return {};
  // We may have lost an event we cannot identify: only a relist restores a true picture.
  last_error_ = transport_error(error_kind::decode, why);
  ++relists_;
  return fail_and_back_off(*last_error_, {action::kind::list_page, "", ""});
}

list_watch_action list_watch_state::on_watch_end(const std::optional<api_error>& e) {
  if (phase_ != phase::watching && phase_ != phase::listed) return {};
  if (!e) {
    // The server closed the stream normally (timeoutSeconds): resume where we are.
    ++rewatches_;
    phase_ = phase::listed;
    return {action::kind::start_watch, "", rv_};
  }
  if (e->kind == error_kind::gone) {
    last_error_ = e;
    ++relists_;
    return relist();
  }
  ++rewatches_;
  return fail_and_back_off(*e, {action::kind::start_watch, "", rv_});
}

list_watch_action list_watch_state::fail_and_back_off(const api_error& e, list_watch_action retry) {
  last_error_ = e;
  pending_retry_ = std::move(retry);
  phase_ = phase::backing_off;
  return {action::kind::back_off, "", ""};
}

list_watch_action list_watch_state::on_backoff_elapsed() {
  if (phase_ != phase::backing_off) return {};
  auto next = pending_retry_;
  if (next.what == action::kind::list_page) {
    phase_ = phase::listing;
    continue_token_ = next.continue_token;
  } else {
    phase_ = phase::listed;
  }
  return next;
}

}  // namespace k8s
