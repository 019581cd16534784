#include "s3/blobs.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "base/numbers.h"
#include "log/log.h"

namespace iafs::s3 {

namespace {

struct DigestFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

Result<PutResult> put_in_parts(Client& client, const std::string& key, const BlobId& id,
                               const BlobSource& source, const PutOptions& options,
                               Deadline deadline) {
  std::unique_ptr<EVP_MD_CTX, DigestFree> whole(EVP_MD_CTX_new());
  if (!whole || EVP_DigestInit_ex(whole.get(), EVP_sha256(), nullptr) != 1) {
    return make_error(ErrorCode::kIo, "PUT " + key + ": no SHA-256");
  }
  Result<std::string> upload = client.create_multipart(key, options, deadline);
  if (!upload) return upload.error();
  auto abandon = [&](Error error) -> Result<PutResult> {
    if (Status aborted = client.abort_multipart(key, *upload, Deadline::after_ms(10000)); !aborted) {
      log_warning("s3: " + aborted.error().message + " (a lifecycle rule aborts it later)");
    }
    return error;
  };
  std::vector<uint8_t> part(std::min(kPartSize, source.size()));
  std::vector<std::string> etags;
  for (uint64_t offset = 0; offset < source.size(); offset += kPartSize) {
    std::span<uint8_t> bytes(part.data(), std::min(kPartSize, source.size() - offset));
    if (Status read = source.read(offset, bytes); !read) return abandon(read.error());
    EVP_DigestUpdate(whole.get(), bytes.data(), bytes.size());
    Result<std::string> etag =
        client.upload_part(key, *upload, static_cast<unsigned>(etags.size() + 1), bytes, deadline);
    if (!etag) return abandon(etag.error());
    etags.push_back(std::move(etag).value());
  }
  BlobId read{};
  unsigned length = 0;
  EVP_DigestFinal_ex(whole.get(), read.data(), &length);
  if (read != id) {
    return abandon(make_error(ErrorCode::kIo, "PUT " + key + ": the bytes changed while they "
                                              "were sent; nothing stored"));
  }
  if (Status done = client.complete_multipart(key, *upload, etags, deadline); !done) {
    return abandon(done.error());
  }
  return PutResult::kCreated;
}

}  // namespace

std::string blob_key(const BlobId& id) { return "b/" + blob_id_hex(id); }

Result<PutResult> put_blob(Client& client, const BlobId& id, const BlobSource& source,
                           uint64_t xxh3, Deadline deadline) {
  std::string key = blob_key(id);
  Result<std::optional<ObjectInfo>> there = client.head(key, deadline);
  if (!there) return there.error();
  if (there->has_value()) {
    if ((*there)->size != source.size()) {
      return make_error(ErrorCode::kIo, key + " holds " + std::to_string((*there)->size) +
                                            " bytes, not " + std::to_string(source.size()));
    }
    return PutResult::kExists;
  }
  PutOptions options;
  options.if_none_match = true;
  options.metadata.push_back(Header{"xxh3", hex_u64(xxh3)});
  if (source.size() > kSinglePutLimit) {
    return put_in_parts(client, key, id, source, options, deadline);
  }
  Result<PutResult> put =
      client.put_source(key, source, 0, source.size(), blob_id_hex(id), options, deadline);
  if (!put) {
    if (put.error().message.find("XAmzContentSHA256Mismatch") != std::string::npos) {
      return make_error(ErrorCode::kIo, "PUT " + key + ": the bytes changed while they were "
                                        "sent; nothing stored");
    }
    return put.error();
  }
  return put;
}

}  // namespace iafs::s3
