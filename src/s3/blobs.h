// Originals in the bucket: b/<sha256>, whose key the bytes prove (SCALEOUT.md
// §3, §5 step 3). A single PUT up to 64 MiB, created only if absent and sent
// with x-amz-content-sha256 = the key's hash, so the server checks them; over
// that, a multipart upload of 16 MiB parts (unconditional: a repeat is
// harmless), each part checked by the server and their whole by us before
// the upload completes.
#pragma once

#include <cstdint>

#include "imageattachfs/blob_store.h"
#include "imageattachfs/result.h"
#include "s3/client.h"

namespace iafs::s3 {

constexpr uint64_t kSinglePutLimit = 64ull << 20;
constexpr uint64_t kPartSize = 16ull << 20;

// "b/<64 hex>".
std::string blob_key(const BlobId& id);

// Makes b/<id> hold the bytes of `source`: kExists when a HEAD or the
// create-if-absent PUT finds it there already, kCreated when this call put
// it. kIo when the bytes read do not hash to `id` (a source that changed
// while it was read: nothing is stored) or the bucket fails.
Result<PutResult> put_blob(Client& client, const BlobId& id, const BlobSource& source,
                           uint64_t xxh3, Deadline deadline);

}  // namespace iafs::s3
