// Impersonation as k8s.io/apiserver v1.32 does it (pkg/endpoints/filters/impersonation.go): the
// headers Impersonate-User, Impersonate-Group, Impersonate-Uid and Impersonate-Extra-KEY make a
// request act as another user, each one allowed by the `impersonate` verb on users, groups,
// serviceaccounts (a system:serviceaccount:NS:NAME user), uids or userextras/KEY.
#pragma once

#include <functional>
#include <optional>

#include "k8s/http/http_server.h"
#include "tools/kubesim/request_info.h"

namespace kubesim {

// Returns the user to act as, or nullopt when the request impersonates no one. Throws the
// api_error the real filter answers with: 403 from forbidden_error when `allowed` refuses one
// step, 500 when groups, uid or extras come without a user.
std::optional<user_info> impersonated_user(
    const k8s::http::header_list& headers, const user_info& requester,
    const std::function<bool(const request_attributes&, std::string& reason)>& allowed);

}  // namespace kubesim
