// ImportRun: the workers, the committer and the progress of a bulk import.
#include "cli/import_run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>

#include "base/clock.h"
#include "base/unique_fd.h"

namespace iafs {
namespace {

// Sources queued ahead of the workers, per worker.
constexpr size_t kQueuedPerWorker = 4;
// Judged originals waiting for the committer hold at most this many bytes
// (one larger original still passes alone).
constexpr uint64_t kMaxJudgedBytes = uint64_t{128} << 20;
// One write transaction commits at most this many originals, or bytes: the
// larger the batch, the fewer syncs (LMDB syncs each commit).
constexpr size_t kMaxBatchOps = 2000;
constexpr uint64_t kMaxBatchBytes = uint64_t{64} << 20;
// Before committing, the committer waits up to kGatherMs for kGatherOps
// originals: fewer syncs, and the disk stays free for others.
constexpr size_t kGatherOps = 256;
constexpr int kGatherMs = 50;

constexpr int64_t kBarIntervalNs = 100'000'000;
constexpr int64_t kLineIntervalNs = 5'000'000'000;

// The reason a refusal is counted under.
std::string_view reason_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid:
      return "invalid_image";
    case ErrorCode::kTooBig:
      return "too_large";
    default:
      return "unreadable";
  }
}

}  // namespace

ImportRun::ImportRun(ImageSets& sets, ImportSettings settings, uint64_t total)
    : sets_(sets), settings_(std::move(settings)), total_(total), started_ns_(monotonic_ns()) {
  // A bar shows at once (at 0%); progress lines start after their interval.
  last_progress_ns_ = settings_.progress_bar ? started_ns_ - kBarIntervalNs : started_ns_;
  unsigned threads = std::max(1u, settings_.threads);
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  committer_ = std::thread([this] { commit_loop(); });
}

ImportRun::~ImportRun() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  if (committer_.joinable()) committer_.join();
}

bool ImportRun::add(ImportSource source) {
  std::unique_lock lock(mutex_);
  size_t room = kQueuedPerWorker * workers_.size();
  changed_.wait(lock, [&] { return sources_.size() < room || error_; });
  if (error_) return false;
  sources_.push_back(std::move(source));
  lock.unlock();
  changed_.notify_all();
  return true;
}

void ImportRun::refuse(const std::string& name, std::string_view reason,
                       const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    ++refused_;
    ++refusals_[std::string(reason)];
    ++done_;
  }
  print_line("refused " + name + ": " + message + " (" + std::string(reason) + ")");
}

void ImportRun::ignore() {
  std::lock_guard lock(mutex_);
  ++ignored_;
  ++done_;
}

void ImportRun::fail(const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = message;
  }
  changed_.notify_all();
}

void ImportRun::work() {
  for (;;) {
    ImportSource source;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !sources_.empty() || closing_ || error_; });
      if (error_ || sources_.empty()) return;
      source = std::move(sources_.front());
      sources_.pop_front();
      ++judging_;
    }
    changed_.notify_all();
    judge(source);
    {
      std::lock_guard lock(mutex_);
      --judging_;
    }
    changed_.notify_all();
  }
}

// Reads one source and judges it; what is to be stored goes to the committer.
void ImportRun::judge(ImportSource& source) {
  // O_NONBLOCK: a FIFO in the tree must not hang the import (it is refused below).
  UniqueFd fd(::open(source.file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return refuse(source.name, "unreadable", std::strerror(errno));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return refuse(source.name, "unreadable", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return refuse(source.name, "unreadable", "not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (Status s = sets_.check_original_size(source.target, size); !s) {
    return refuse(source.name, reason_of(s.error().code), s.error().message);
  }
  auto bytes = read_whole(fd.get(), size, "read");
  if (!bytes) return refuse(source.name, "unreadable", bytes.error().message);
  auto plan = sets_.plan_import(source.target, *bytes, to_ns(st.st_mtim));
  if (!plan) {
    ErrorCode code = plan.error().code;
    if (code == ErrorCode::kInvalid || code == ErrorCode::kTooBig) {
      return refuse(source.name, reason_of(code), plan.error().message);
    }
    return fail(source.name + ": " + plan.error().message);
  }
  if (plan->kind == ImportPlan::Kind::kSkip) {
    std::lock_guard lock(mutex_);
    ++skipped_;
    ++done_;
    return;
  }
  Judged judged{std::move(*plan->op), {}, std::move(source.name), plan->replaces};
  if (plan->kind == ImportPlan::Kind::kAttach) judged.bytes = std::move(bytes).value();
  uint64_t held = judged.bytes.size();
  {
    std::unique_lock lock(mutex_);
    changed_.wait(
        lock, [&] { return judged_.empty() || judged_bytes_ + held <= kMaxJudgedBytes || error_; });
    if (error_) return;
    judged_bytes_ += held;
    judged_.push_back(std::move(judged));
  }
  changed_.notify_all();
}

void ImportRun::commit_loop() {
  for (;;) {
    std::vector<Judged> batch;
    {
      std::unique_lock lock(mutex_);
      auto all_judged = [&] { return closing_ && sources_.empty() && judging_ == 0; };
      changed_.wait_for(lock, std::chrono::milliseconds(100),
                        [&] { return !judged_.empty() || error_ || all_judged(); });
      if (error_) break;
      // Each commit syncs the disk: gather a few more while the workers judge.
      changed_.wait_for(lock, std::chrono::milliseconds(kGatherMs), [&] {
        return judged_.size() >= kGatherOps || judged_bytes_ >= kMaxBatchBytes || error_ ||
               all_judged();
      });
      if (error_) break;
      uint64_t bytes = 0;
      std::set<BlobId> blobs;  // one transaction carries each blob once (Store::apply_all)
      while (!judged_.empty() && batch.size() < kMaxBatchOps) {
        Judged& next = judged_.front();
        if (!batch.empty() && bytes + next.bytes.size() > kMaxBatchBytes) break;
        const auto* attach = std::get_if<AttachOriginal>(&next.op.change);
        if (attach != nullptr && !blobs.insert(attach->blob).second) break;
        bytes += next.bytes.size();
        judged_bytes_ -= next.bytes.size();
        batch.push_back(std::move(next));
        judged_.pop_front();
      }
      if (batch.empty() && judged_.empty() && all_judged()) break;
    }
    changed_.notify_all();
    if (!batch.empty()) commit_batch(batch);
    show_progress(false);
  }
  changed_.notify_all();
}

void ImportRun::commit_batch(std::vector<Judged>& batch) {
  std::vector<Op> ops;
  std::vector<std::span<const uint8_t>> bytes;
  ops.reserve(batch.size());
  bytes.reserve(batch.size());
  for (Judged& j : batch) {
    ops.push_back(j.op);
    bytes.emplace_back(j.bytes);
  }
  auto outcome = sets_.commit_imports(ops, bytes);
  if (!outcome) return fail("commit: " + outcome.error().message);
  std::lock_guard lock(mutex_);
  for (const Judged& j : batch) {
    if (std::holds_alternative<SetMtime>(j.op.change)) {
      ++skipped_;
    } else {
      ++imported_;
      if (j.replaces) ++replaced_;
    }
    ++done_;
  }
  ++batches_;
}

void ImportRun::show_progress(bool final) {
  int64_t now = monotonic_ns();
  uint64_t done, refused;
  {
    std::lock_guard lock(mutex_);
    int64_t interval = settings_.progress_bar ? kBarIntervalNs : kLineIntervalNs;
    if (!final && now - last_progress_ns_ < interval) return;
    last_progress_ns_ = now;
    done = done_;
    refused = refused_;
  }
  double seconds = static_cast<double>(now - started_ns_) / 1e9;
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  unsigned percent =
      total_ > 0 ? static_cast<unsigned>(std::min<uint64_t>(100, done * 100 / total_)) : 0;
  char counts[160];
  std::snprintf(counts, sizeof counts, "%llu/%llu files, %.0f files/s, %llu refused",
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                rate, static_cast<unsigned long long>(refused));
  std::lock_guard out(output_mutex_);
  if (settings_.progress_bar) {
    if (final) {
      if (bar_shown_) std::fputs("\r\033[K", stdout);
      bar_shown_ = false;
    } else {
      constexpr unsigned kWidth = 30;
      std::string bar(kWidth * percent / 100, '#');
      bar.resize(kWidth, '.');
      std::printf("\r\033[K[%s] %3u%% %s", bar.c_str(), percent, counts);
      bar_shown_ = true;
    }
  } else if (!final) {
    std::printf("%s: %u%%, %s\n", settings_.command.c_str(), percent, counts);
  }
  std::fflush(stdout);
}

void ImportRun::print_line(const std::string& line) {
  std::lock_guard out(output_mutex_);
  if (bar_shown_) std::fputs("\r\033[K", stdout);
  bar_shown_ = false;
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

int ImportRun::finish() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : workers_) t.join();
  committer_.join();
  show_progress(true);
  double seconds = static_cast<double>(monotonic_ns() - started_ns_) / 1e9;
  std::lock_guard lock(mutex_);
  char line[320];
  std::snprintf(
      line, sizeof line,
      "%s: %llu imported (%llu replaced), %llu skipped, %llu refused, %llu ignored; "
      "%.1f s, %.0f files/s, %llu transactions",
      settings_.command.c_str(), static_cast<unsigned long long>(imported_),
      static_cast<unsigned long long>(replaced_), static_cast<unsigned long long>(skipped_),
      static_cast<unsigned long long>(refused_), static_cast<unsigned long long>(ignored_), seconds,
      seconds > 0 ? static_cast<double>(done_) / seconds : 0.0,
      static_cast<unsigned long long>(batches_));
  print_line(line);
  if (!refusals_.empty()) {
    std::string reasons = settings_.command + ": refused:";
    for (const auto& [reason, count] : refusals_) {
      reasons += " " + reason + " " + std::to_string(count) + ",";
    }
    reasons.pop_back();
    print_line(reasons);
  }
  if (error_) {
    std::fprintf(stderr, "imageattachfs: %s: %s\n", settings_.command.c_str(), error_->c_str());
    return 2;
  }
  return refused_ > 0 ? 1 : 0;
}

}  // namespace iafs
