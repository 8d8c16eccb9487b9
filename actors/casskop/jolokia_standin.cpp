#include "actors/casskop/jolokia_standin.h"

#include <cpprest/http_client.h>

namespace casskop {

node_caller jolokia_standin_caller() {
  return [](const std::string&, const std::string& ip, const jolokia::request& request,
            std::function<void(jolokia::http_reply)> done) {
    namespace hc = web::http::client;
    hc::http_client_config cfg;
    cfg.set_timeout(request.long_running ? std::chrono::seconds(120) : std::chrono::seconds(10));
    std::shared_ptr<hc::http_client> client;
    try {
      client = std::make_shared<hc::http_client>(jolokia::url(ip), cfg);
    } catch (const std::exception& e) {
      jolokia::http_reply r;
      r.transport = {jolokia::failure::transport, 0, "", e.what()};
      return done(std::move(r));
    }
    web::http::http_request req(web::http::methods::POST);
    req.set_body(request.body, "application/json");
    client->request(req)
        .then([client](web::http::http_response resp) {
          auto status = resp.status_code();
          return resp.extract_utf8string(true).then(
              [status](std::string body) { return std::make_pair(int(status), body); });
        })
        .then([done](pplx::task<std::pair<int, std::string>> t) {
          jolokia::http_reply r;
          try {
            auto [status, body] = t.get();
            r.status = status;
            r.body = std::move(body);
          } catch (const std::exception& e) {
            std::string what = e.what();
            bool timeout = what.find("timed out") != std::string::npos ||
                           what.find("timeout") != std::string::npos;
            bool refused = what.find("refused") != std::string::npos;
            r.transport = {timeout   ? jolokia::failure::timeout
                           : refused ? jolokia::failure::refused
                                     : jolokia::failure::transport,
                           0, "", what};
          }
          done(std::move(r));
        });
  };
}

}  // namespace casskop
