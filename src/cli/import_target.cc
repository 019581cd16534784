// Opening a store for a bulk import, and the command line both imports share.
#include <unistd.h>

#include <thread>

#include "base/numbers.h"
#include "cli/commands.h"
#include "cli/import_run.h"
#include "config/schema_parser.h"
#include "image/image.h"

namespace iafs {

Result<ImportArgs> parse_import_args(int argc, char** argv, bool with_map) {
  ImportArgs args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    std::string name = arg;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg == "--schema" || arg == "--threads" || (with_map && arg == "--map")) {
      if (i + 1 >= argc) return make_error(ErrorCode::kInvalid, arg + " needs a value");
      value = argv[++i];
    } else if (!arg.starts_with("-") || arg == "-") {
      args.positional.push_back(arg);
      continue;
    }
    if (name == "--schema") {
      args.schema_path = value;
    } else if (with_map && name == "--map") {
      args.map_file = value;
    } else if (name == "--threads") {
      auto n = parse_number(value, 256, false);
      if (!n || *n == 0) {
        return make_error(ErrorCode::kInvalid, "--threads: 1 to 256, not '" + value + "'");
      }
      args.threads = static_cast<unsigned>(*n);
    } else {
      return make_error(ErrorCode::kInvalid, "unexpected '" + arg + "'");
    }
  }
  return args;
}

Result<std::unique_ptr<ImportTarget>> ImportTarget::open(const std::string& store_dir,
                                                         const std::string& schema_path,
                                                         unsigned threads) {
  std::unique_ptr<ImportTarget> target(new ImportTarget);
  Result<Schema> schema =
      schema_path.empty() ? Result<Schema>(default_schema()) : load_schema(schema_path);
  if (!schema) return schema.error();
  target->schema_ = std::move(schema).value();
  target->threads_ = threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  auto lock = lock_store(store_dir);
  if (!lock) return lock.error();
  target->lock_ = std::move(lock).value();
  auto store = Store::open(store_dir, StoreOptions{});
  if (!store) return store.error();
  target->store_ = std::move(store).value();
  // A bucket's store holds what its log says: sets of its own would be on no other host.
  auto origin = target->store_->log_origin();
  if (!origin) return origin.error();
  if (*origin) {
    return make_error(ErrorCode::kInvalid,
                      store_dir + ": holds a bucket's store: copy the files into a mount of it");
  }
  // What a mount does with it: nothing staged survives (the store is not mounted).
  auto staging = StagingArea::open(store_dir + "/staging");
  if (!staging) return staging.error();
  target->staging_ = std::move(staging).value();
  if (Status s = image_init("imageattachfs"); !s) return s.error();
  target->vips_started_ = true;
  target->sets_ = std::make_unique<ImageSets>(*target->store_, target->schema_, *target->staging_,
                                              target->threads_);
  return target;
}

ImportTarget::~ImportTarget() {
  sets_.reset();
  if (vips_started_) image_shutdown();
}

int run_bulk_import(const std::string& command, const ImportArgs& args,
                    const std::string& store_dir,
                    const std::function<uint64_t(const Schema&)>& count,
                    const std::function<void(ImportRun&, const Schema&)>& feed) {
  auto target = ImportTarget::open(store_dir, args.schema_path, args.threads);
  if (!target && target.error().code == ErrorCode::kBusy) {
    return command_failed(command + ": " + store_dir +
                              ": the store is mounted; stop it first (or copy the files into "
                              "the mount with cp -a)",
                          2);
  }
  if (!target) return command_failed(command + ": " + target.error().message, 2);
  const Schema& schema = (*target)->schema();
  uint64_t total = count(schema);
  ImportSettings settings{command, (*target)->threads(), isatty(STDOUT_FILENO) == 1};
  ImportRun run((*target)->sets(), settings, total);
  feed(run, schema);
  return run.finish();
}

}  // namespace iafs
