// Client's multipart uploads (s3/client.h): originals over 64 MiB.
#include "s3/client.h"
#include "s3/xml.h"

namespace iafs::s3 {

Result<std::string> Client::create_multipart(std::string_view key, const PutOptions& options,
                                             Deadline deadline) {
  Call call("POST", std::string(key));
  call.query.emplace_back("uploads", "");
  PutOptions unconditional = options;
  unconditional.if_none_match = false;
  add_options(call, unconditional);
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  std::optional<std::string> id = xml_text(response->body, "UploadId");
  if (response->status != 200 || !id || id->empty()) {
    return unexpected_answer("POST " + std::string(key) + "?uploads", response.value());
  }
  return *id;
}

Result<std::string> Client::upload_part(std::string_view key, const std::string& upload_id,
                                        unsigned part, std::span<const uint8_t> bytes,
                                        Deadline deadline) {
  Call call("PUT", std::string(key));
  call.query.emplace_back("partNumber", std::to_string(part));
  call.query.emplace_back("uploadId", upload_id);
  call.body = bytes;
  call.timeout_ms = 0;
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  const std::string* etag = response->header("etag");
  if (response->status != 200 || etag == nullptr || etag->empty()) {
    return unexpected_answer("PUT " + std::string(key) + " part " + std::to_string(part),
                             response.value());
  }
  return *etag;
}

Status Client::complete_multipart(std::string_view key, const std::string& upload_id,
                                  const std::vector<std::string>& etags, Deadline deadline) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    std::string etag;
    for (char c : etags[i]) {
      if (c == '"') {
        etag += "&quot;";
      } else if (c == '&') {
        etag += "&amp;";
      } else if (c == '<') {
        etag += "&lt;";
      } else {
        etag += c;
      }
    }
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etag +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  Call call("POST", std::string(key));
  call.query.emplace_back("uploadId", upload_id);
  call.headers.push_back(Header{"content-type", "application/xml"});
  call.body = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(xml.data()), xml.size());
  call.timeout_ms = 120000;  // the server assembles the parts before it answers
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  // S3 may answer 200 and put an <Error> in the body.
  if (response->status != 200 || !xml_elements(response->body, "Error").empty() ||
      xml_elements(response->body, "CompleteMultipartUploadResult").empty()) {
    HttpResponse failed = response.value();
    if (failed.status == 200) failed.status = 500;
    return unexpected_answer("POST " + std::string(key) + "?uploadId", failed);
  }
  return Status::Ok();
}

Status Client::abort_multipart(std::string_view key, const std::string& upload_id,
                               Deadline deadline) {
  Call call("DELETE", std::string(key));
  call.query.emplace_back("uploadId", upload_id);
  Result<HttpResponse> response = send(call, deadline);
  if (!response) return response.error();
  if (response->status == 204 || response->status == 200 || response->status == 404) {
    return Status::Ok();
  }
  return unexpected_answer("DELETE " + std::string(key) + "?uploadId", response.value());
}

}  // namespace iafs::s3
