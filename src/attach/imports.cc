// ImageSets: bulk import of originals (imageattachfs import, import-imageattach):
// each judged exactly as an upload is, many committed per write transaction.
#include "attach/image_sets.h"
#include "base/clock.h"
#include "store/hashing.h"

namespace iafs {

Status ImageSets::check_original_size(const ImagePath& path, uint64_t size) const {
  uint64_t max_bytes = max_bytes_of(path);
  if (size <= max_bytes) return Status::Ok();
  // The words of an upload's refusal (commit_upload).
  return make_error(ErrorCode::kTooBig, std::to_string(size) + " bytes, over the limit of " +
                                            std::to_string(max_bytes));
}

Result<ImportPlan> ImageSets::plan_import(const ImagePath& path, std::span<const uint8_t> bytes,
                                          int64_t mtime_ns) {
  if (Status s = writable("import"); !s) return s.error();
  if (Status s = check_original_size(path, bytes.size()); !s) return s.error();
  BlobId blob = sha256_of(bytes);
  auto record = store_.get_set(path.set);
  if (!record) return record.error();
  ImportPlan plan;
  if (record->has_value()) {
    const SetRecord& held = **record;
    if (held.blob == blob && held.size == bytes.size() && held.ext == path.original_ext) {
      if (mtime_ns == 0 || held.mtime_ns == mtime_ns) return plan;  // kSkip
      plan.kind = ImportPlan::Kind::kSetMtime;
      plan.op = Op{SetMtime{path.set, mtime_ns}, now_ns()};
      return plan;
    }
    plan.replaces = true;
  }
  auto op = judge_original(path, bytes, mtime_ns);
  if (!op) return op.error();
  plan.kind = ImportPlan::Kind::kAttach;
  plan.op = Op{std::move(op).value(), now_ns()};
  return plan;
}

Result<std::vector<ApplyOutcome>> ImageSets::commit_imports(
    std::span<const Op> ops, std::span<const std::span<const uint8_t>> bytes) {
  if (Status s = writable("import"); !s) return s.error();
  return store_.apply_all(ops, bytes);
}

}  // namespace iafs
