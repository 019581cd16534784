// metadata_fetch: the credential chain's requests as HTTP requests.
#include "s3/client.h"

namespace iafs::s3 {

MetadataFetch metadata_fetch(HttpTransport& http) {
  return [&http](const MetadataRequest& request) -> Result<MetadataReply> {
    HttpRequest sent;
    sent.method = request.method;
    sent.url = request.url;
    sent.headers = request.headers;
    sent.body = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(request.body.data()),
                                         request.body.size());
    sent.timeout_ms = request.timeout_ms;
    Result<Url> url = parse_url(request.url);  // errors name the host, never the path
    sent.label = request.method + " " + (url ? url->scheme + "://" + url->authority : "a bad URL");
    sent.max_body = 1 << 20;  // credentials, never more
    Result<HttpResponse> response = http.perform(sent);
    if (!response) return response.error();
    return MetadataReply{response->status, std::move(response->body)};
  };
}

}  // namespace iafs::s3
