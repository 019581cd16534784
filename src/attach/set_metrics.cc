// ImageSets: its counters and what the store holds, as the Prometheus text of
// /.imageattachfs/metrics (README "Metrics" lists them).
#include <string_view>

#include "attach/image_sets.h"

namespace iafs {
namespace {

// The reasons of imageattachfs_uploads_refused_total, by index.
constexpr std::string_view kRefusalReasonNames[ImageSets::kRefusalReasons] = {
    "invalid_image", "too_large", "too_many", "no_space", "io", "other"};

size_t refusal_reason(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid:
      return 0;
    case ErrorCode::kTooBig:
      return 1;
    case ErrorCode::kTooMany:
      return 2;
    case ErrorCode::kNoSpace:
      return 3;
    case ErrorCode::kIo:
      return 4;
    default:
      return 5;
  }
}

void counter(PrometheusText& out, std::string_view name, std::string_view help, uint64_t value) {
  out.family(name, "counter", help);
  out.sample(name, static_cast<double>(value));
}

void gauge(PrometheusText& out, std::string_view name, std::string_view help, uint64_t value) {
  out.family(name, "gauge", help);
  out.sample(name, static_cast<double>(value));
}

}  // namespace

void ImageSets::count_refusal(const Error& error) {
  uploads_refused_[refusal_reason(error.code)].add();
}

Result<std::string> ImageSets::metrics_text() {
  auto totals = store_.totals();
  if (!totals) return totals.error();
  StoreMapUsage map = store_.map_usage();
  size_t uploading = 0;
  {
    std::lock_guard lock(uploads_mutex_);
    uploading = uploads_.size();
  }
  PrometheusText out;
  counter(out, "imageattachfs_thumbnails_made_total",
          "Thumbnails resized and stored since start (a lookup of a stored one is not counted).",
          thumbnails_made_.value());
  counter(out, "imageattachfs_thumbnails_found_total",
          "Thumbnail lookups answered from the store, with no resize, since start.",
          thumbnails_found_.value());
  counter(out, "imageattachfs_thumbnail_failures_total",
          "Thumbnails that could not be made since start (the original did not decode, or the "
          "store failed).",
          thumbnail_failures_.value());
  out.histogram("imageattachfs_thumbnail_seconds",
                "Seconds to decode, resize and encode each thumbnail made and stored (waiting "
                "for a decode slot not included).",
                thumbnail_seconds_.snapshot());
  counter(out, "imageattachfs_eager_thumbnails_made_total",
          "Thumbnails made at upload (lqip.webp and the schema's eager list) and stored since "
          "start; also counted in imageattachfs_thumbnails_made_total.",
          eager_made_.value());
  counter(out, "imageattachfs_eager_thumbnails_dropped_total",
          "Thumbnails to make at upload that were not queued since start: the background "
          "queue was full (each is made at its first read instead).",
          eager_dropped_.value());
  gauge(out, "imageattachfs_eager_thumbnails_pending",
        "Thumbnails to make at upload queued or being made now.", pool_.background_pending());
  counter(out, "imageattachfs_uploads_committed_total",
          "Uploads (a flush, or a rename onto original.EXT) that stored new bytes or a new "
          "extension since start; committing identical bytes again is not counted.",
          uploads_committed_.value());
  const std::string_view refused = "imageattachfs_uploads_refused_total";
  out.family(refused, "counter",
             "Uploads refused since start, by reason: invalid_image (not an image of its "
             "extension, or empty), too_large (over the schema's byte or pixel limits), "
             "too_many (one process holds too many uploads open), no_space (store or staging "
             "full), io (the store failed), other.");
  for (size_t i = 0; i < kRefusalReasons; ++i) {
    out.sample(refused, static_cast<double>(uploads_refused_[i].value()),
               {{"reason", kRefusalReasonNames[i]}});
  }
  gauge(out, "imageattachfs_uploads_in_progress", "Uploads open for writing now.", uploading);
  gauge(out, "imageattachfs_originals_stored", "Image sets holding an original now.",
        totals->originals);
  gauge(out, "imageattachfs_original_bytes",
        "Bytes of the originals stored now: the sum of their sizes as ls -l shows them "
        "(identical originals in two sets count twice, though stored once).",
        totals->original_bytes);
  gauge(out, "imageattachfs_thumbnails_stored", "Thumbnails stored now.", totals->thumbnails);
  gauge(out, "imageattachfs_thumbnail_bytes",
        "Bytes of the thumbnails stored now: the sum of their sizes as ls -l shows them.",
        totals->thumbnail_bytes);
  if (budget_ != nullptr) {
    gauge(out, "imageattachfs_thumbnail_budget_bytes",
          "The thumb_budget option: thumbnails over it are evicted, least recently used first.",
          budget_->budget());
    counter(out, "imageattachfs_thumbnails_evicted_total",
            "Thumbnails evicted to keep under thumb_budget since start.", budget_->evicted());
    counter(out, "imageattachfs_thumbnail_evicted_bytes_total",
            "Bytes of the thumbnails evicted to keep under thumb_budget since start.",
            budget_->evicted_bytes());
  }
  if (cache_ != nullptr) {
    auto cached = store_.cached_bytes();
    gauge(out, "imageattachfs_cache_bytes",
          "Bytes of the bucket's originals and thumbnails this host holds now.",
          cached ? cached->value_or(0) : 0);
    gauge(out, "imageattachfs_cache_budget_bytes",
          "The cache_size option: above it, what was read least recently is dropped.",
          cache_->budget());
    counter(out, "imageattachfs_cache_evicted_originals_total",
            "Originals whose cached bytes were dropped to keep under cache_size since start.",
            cache_->evicted_originals());
  }
  gauge(out, "imageattachfs_store_map_bytes",
        "Size of the store's LMDB map (the map_size option): the most it can hold.", map.map_bytes);
  gauge(out, "imageattachfs_store_used_bytes",
        "Bytes of the store's map in use, up to its last page written (freed pages are "
        "reused, not returned).",
        map.used_bytes);
  return out.text();
}

}  // namespace iafs
