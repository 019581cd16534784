// What `imageattachfs import` and `import-imageattach` share: the originals
// they find are read and judged on worker threads (ImageSets::plan_import:
// validated exactly as an upload is), committed many per write transaction
// (each transaction whole or not at all: a kill -9 loses no committed
// original and leaves no partial one), with progress (a bar on a terminal,
// a line every few seconds otherwise), one line per refusal and a summary.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "attach/image_sets.h"
#include "base/unique_fd.h"
#include "imageattachfs/schema.h"

namespace iafs {

// One original to import: the file holding it and its place in the namespace.
struct ImportSource {
  std::string file;  // the file to read
  std::string name;  // how its lines name it
  ImagePath target;  // kOriginal
};

struct ImportSettings {
  std::string command;        // "import": starts each progress and summary line
  unsigned threads = 1;       // readers and validators
  bool progress_bar = false;  // a terminal: one bar, redrawn
};

class ImportRun {
 public:
  // `total`: files the source holds (for the progress bar), 0 if unknown.
  ImportRun(ImageSets& sets, ImportSettings settings, uint64_t total);
  ~ImportRun();
  ImportRun(const ImportRun&) = delete;
  ImportRun& operator=(const ImportRun&) = delete;

  // Queues one original; waits while the workers are behind. False once a
  // store error has stopped the import (the caller stops adding).
  bool add(ImportSource source);
  // A file refused before it is read (a path outside the schema, a bad row):
  // counted under `reason`, one line.
  void refuse(const std::string& name, std::string_view reason, const std::string& message);
  // A file that is not an original and is passed over quietly (metadata
  // files, thumbnails, scratch names): counted only.
  void ignore();
  // An error that stops the import (exit 2), e.g. an unreadable source.
  void fail(const std::string& message);

  // Waits for everything queued, prints the summary and returns the exit
  // status: 0 all imported or skipped, 1 some refused, 2 an error.
  int finish();

 private:
  struct Judged {
    Op op;
    std::vector<uint8_t> bytes;  // empty for a SetMtime
    std::string name;
    bool replaces = false;
  };

  void work();
  void judge(ImportSource& source);
  void commit_loop();
  void commit_batch(std::vector<Judged>& batch);
  void show_progress(bool final);
  void print_line(const std::string& line);
  void count_done();

  ImageSets& sets_;
  const ImportSettings settings_;
  const uint64_t total_;
  const int64_t started_ns_;

  std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  std::deque<ImportSource> sources_;
  std::deque<Judged> judged_;
  uint64_t judged_bytes_ = 0;
  unsigned judging_ = 0;  // workers holding a source
  bool closing_ = false;  // no more sources
  std::optional<std::string> error_;
  uint64_t done_ = 0;
  uint64_t imported_ = 0;
  uint64_t replaced_ = 0;
  uint64_t skipped_ = 0;
  uint64_t ignored_ = 0;
  uint64_t refused_ = 0;
  uint64_t batches_ = 0;
  std::map<std::string, uint64_t> refusals_;  // by reason
  int64_t last_progress_ns_ = 0;
  bool bar_shown_ = false;

  std::mutex output_mutex_;
  std::vector<std::thread> workers_;
  std::thread committer_;
};

// The command line both imports take: positional arguments, then
// --schema FILE (the mount's schema; the default compiled in otherwise) and
// --threads N (default: one per core), or their --name=value forms.
struct ImportArgs {
  std::vector<std::string> positional;
  std::string map_file;  // --map FILE (import-imageattach)
  std::string schema_path;
  unsigned threads = 0;
};
// kInvalid naming the bad argument. `with_map`: --map is accepted.
Result<ImportArgs> parse_import_args(int argc, char** argv, bool with_map);

// A store opened for a bulk import: its lock held exclusively (kBusy when it
// is mounted), libvips started, and the ImageSets that judges and commits.
class ImportTarget {
 public:
  static Result<std::unique_ptr<ImportTarget>> open(const std::string& store_dir,
                                                    const std::string& schema_path,
                                                    unsigned threads);
  ~ImportTarget();
  ImageSets& sets() { return *sets_; }
  const Schema& schema() const { return schema_; }
  unsigned threads() const { return threads_; }

 private:
  ImportTarget() = default;
  UniqueFd lock_;
  Schema schema_;
  unsigned threads_ = 1;
  std::unique_ptr<Store> store_;
  std::unique_ptr<StagingArea> staging_;
  std::unique_ptr<ImageSets> sets_;
  bool vips_started_ = false;
};

// Opens STORE for `command` and runs `feed` (which adds the sources to the
// run it is given), then prints the summary: the exit status of either import.
// `count` is called first, for the progress bar's total.
int run_bulk_import(const std::string& command, const ImportArgs& args,
                    const std::string& store_dir,
                    const std::function<uint64_t(const Schema&)>& count,
                    const std::function<void(ImportRun&, const Schema&)>& feed);

}  // namespace iafs
