// Log entries (sync/entry.h): canonical bytes, a strict reading, and the
// JSON reader under them (base/json.h).
#include "sync/entry.h"

#include <criterion/criterion.h>

#include <random>
#include <string>

#include "base/json.h"
#include "path/path.h"

using namespace iafs;
using namespace iafs::sync;

namespace {

ImageSetKey set_key(const std::string& type, const std::string& id, const std::string& att,
                    uint32_t index) {
  auto entity = parse_entity_id(id);
  cr_assert(entity.ok());
  return ImageSetKey{type, *entity, att, index};
}

BlobId blob(uint8_t fill) {
  BlobId id{};
  id.fill(fill);
  return id;
}

const std::string kPrev(64, 'a');

Entry entry(uint64_t seq, const std::string& host, int64_t time_ns) {
  Entry e;
  e.seq = seq;
  e.prev = kPrev;
  e.host = host;
  e.time_ns = time_ns;
  return e;
}

template <typename Change>
LogOp log_op(uint64_t id, Change change, const std::string& ext = "", uint64_t checked = 0) {
  LogOp op;
  op.id = id;
  op.change = std::move(change);
  op.ext = ext;
  op.checked = checked;
  return op;
}

Entry every_op() {
  Entry e = entry(1234, "host-1", 1764070000123456789LL);
  AttachOriginal attach;
  attach.set = set_key("posts", "42", "photos", 0);
  attach.blob = blob(0xab);
  attach.size = 2310455;
  attach.xxh3 = 0x0123456789abcdefULL;
  attach.format = ImageFormat::kJpeg;
  attach.ext = "jpg";
  attach.width = 2560;
  attach.height = 1600;
  attach.mtime_ns = -5;
  e.ops.push_back(log_op(0x9f1c2a7e5b3d4c60ULL, attach, "", 1230));
  attach.created_ns = 77;
  attach.focus = FocalPoint{350000, 200000};
  attach.color = 0x336699;
  attach.blurhash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";
  attach.set = set_key("users", "alice", "picture", 0);
  attach.format = ImageFormat::kPng;
  attach.ext = "png";
  e.ops.push_back(log_op(1, attach, "", 7));
  e.ops.push_back(log_op(2, RemoveSet{set_key("users", "7", "picture", 0), "png"}));
  e.ops.push_back(
      log_op(3, MoveSet{set_key("posts", "1", "photos", 3), set_key("posts", "1", "photos", 1)}));
  e.ops.push_back(log_op(4, SetMtime{set_key("posts", "1", "photos", 1), 10}, "jpeg"));
  e.ops.push_back(log_op(5, SetCreated{set_key("posts", "1", "photos", 1), 11}, "jpg"));
  e.ops.push_back(
      log_op(6, SetFocus{set_key("posts", "1", "photos", 1), FocalPoint{0, 1000000}}, "jpg"));
  e.ops.push_back(log_op(7, SetFocus{set_key("posts", "1", "photos", 1), std::nullopt}, "jpg"));
  e.ops.push_back(log_op(8, SetDirMtime{"/posts/1/photos", 12}));
  e.ops.push_back(log_op(9, DropThumb{blob(1), "0123456789abcdef", "300x187.jpg", std::nullopt}));
  e.ops.push_back(log_op(10, GcStep{GcStep::Kind::kCondemn, {blob(2), blob(3)}}));
  e.ops.push_back(log_op(11, GcStep{GcStep::Kind::kSweep, {}}));
  e.ops.push_back(log_op(12, GcStep{GcStep::Kind::kSwept, {blob(4)}}));
  e.ops.push_back(log_op(
      13, DropThumb{blob(1), "0123456789abcdef", "300.jpg", set_key("posts", "1", "photos", 1)}));
  return e;
}

std::string refused(const std::string& bytes) {
  auto decoded = decode_entry(bytes);
  cr_assert_not(decoded.ok(), "accepted: %s", bytes.c_str());
  cr_assert_eq(decoded.error().code, ErrorCode::kInvalid);
  return decoded.error().message;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  cr_assert(at != std::string::npos, "%s not in %s", from.c_str(), text.c_str());
  return text.replace(at, from.size(), to);
}

}  // namespace

Test(entry, the_canonical_bytes_are_pinned) {
  Entry e = entry(1, "h", 5);
  e.ops.push_back(
      log_op(0x03be77d1a9c45e12ULL, RemoveSet{set_key("users", "7", "picture", 0), "png"}));
  std::string bytes = encode_entry(e);
  std::string expected =
      ("{\"v\":1,\"seq\":1,\"prev\":\"" + kPrev +
       "\",\"host\":\"h\",\"time_ns\":\"5\",\"ops\":[{\"id\":\"03be77d1a9c45e12\","
       "\"op\":\"remove\",\"set\":{\"type\":\"users\",\"id\":\"7\",\"att\":\"picture\","
       "\"index\":0},\"ext\":\"png\"}]}");
  cr_assert_eq(bytes, expected, "%s", bytes.c_str());
}

Test(entry, every_op_reads_back_as_written) {
  Entry e = every_op();
  std::string bytes = encode_entry(e);
  auto decoded = decode_entry(bytes);
  cr_assert(decoded.ok(), "%s", decoded.ok() ? "" : decoded.error().message.c_str());
  cr_assert_eq(encode_entry(*decoded), bytes);
  cr_assert_eq(decoded->ops.size(), e.ops.size());
  cr_assert_eq(decoded->time_ns, e.time_ns);
  const auto& attach = std::get<AttachOriginal>(decoded->ops[1].change);
  cr_assert_eq(attach.set.id.text, "alice");
  cr_assert(attach.focus == (FocalPoint{350000, 200000}));
  cr_assert_eq(attach.color.value(), 0x336699u);
  cr_assert_eq(attach.format, ImageFormat::kPng);
  cr_assert_eq(decoded->ops[1].checked, 7u);
  const auto& first = std::get<AttachOriginal>(decoded->ops[0].change);
  cr_assert_eq(first.mtime_ns, -5);
  cr_assert(first.set.id.is_integer && first.set.id.number == 42);
  cr_assert_eq(first.xxh3, 0x0123456789abcdefULL);
  cr_assert_eq(decoded->ops[0].id, 0x9f1c2a7e5b3d4c60ULL);
  cr_assert_eq(decoded->ops[4].ext, "jpeg");
  cr_assert_not(std::get<SetFocus>(decoded->ops[7].change).focus.has_value());
  cr_assert_eq(std::get<GcStep>(decoded->ops[12].change).shas.size(), 1u);
  cr_assert_not(std::get<DropThumb>(decoded->ops[9].change).set.has_value());
  const auto& drop = std::get<DropThumb>(decoded->ops[13].change);
  cr_assert(drop.set && drop.set->index == 1 && drop.name == "300.jpg");
}

Test(entry, a_drop_thumb_of_a_bad_recipe_or_name_is_refused) {
  std::string good = encode_entry(every_op());
  refused(replace(good, "\"recipe\":\"0123456789abcdef\",\"name\":\"300.jpg\"",
                  "\"recipe\":\"0123456789abcdeg\",\"name\":\"300.jpg\""));
  refused(replace(good, "\"name\":\"300.jpg\"", "\"name\":\"a/b.jpg\""));
  refused(replace(good, "\"name\":\"300.jpg\"", "\"name\":\"300.jpg~1\""));
  refused(replace(good, "\"name\":\"300.jpg\"", "\"name\":\"\""));
}

Test(entry, what_a_host_must_not_apply_is_refused) {
  std::string good = encode_entry(every_op());
  cr_assert(decode_entry(good).ok());
  cr_assert(refused(replace(good, "{\"v\":1", "{\"v\":2")).find("version") != std::string::npos);
  cr_assert(refused(replace(good, "\"op\":\"move\"", "\"op\":\"copy\"")).find("unknown kind") !=
            std::string::npos);
  cr_assert(refused(replace(good, "\"ext\":\"png\"}", "\"ext\":\"png\",\"new\":1}"))
                .find("unknown field \"new\"") != std::string::npos);
  cr_assert(refused(replace(good, "\"host\":", "\"extra\":0,\"host\":")).find("unknown field") !=
            std::string::npos);
  refused(replace(good, ",\"checked\":1230", ""));                     // missing
  refused(replace(good, "\"size\":2310455", "\"size\":\"2310455\""));  // wrong kind
  refused(replace(good, "\"mtime_ns\":\"-5\"", "\"mtime_ns\":-5"));    // 64-bit as number
  refused(replace(good, "{\"v\":1,", "{ \"v\":1,"));                   // whitespace
  refused(replace(good, "\"seq\":1234,\"prev\"", "\"seq\":1234 ,\"prev\""));
  refused(replace(good, "\"w\":2560,\"h\":1600", "\"h\":1600,\"w\":2560"));  // order
  refused(replace(good, "\"xxh3\":\"0123456789abcdef\"", "\"xxh3\":\"0123456789ABCDEF\""));
  refused(replace(good, "\"checked\":1230", "\"checked\":1230,\"created_ns\":\"0\""));
  refused(replace(good, "\"seq\":1234", "\"seq\":0"));
  refused(replace(good, "\"seq\":1234", "\"seq\":12.5"));
  refused(replace(good, "\"seq\":1234", "\"seq\":99999999999999999999"));
  refused(replace(good, "\"size\":2310455", "\"size\":-1"));
  refused(replace(good, "[350000,200000]", "[350000,2000000]"));
  refused(replace(good, "\"ext\":\"jpg\"", "\"ext\":\"exe\""));
  refused(replace(good, "\"id\":\"42\"", "\"id\":\"../42\""));
  refused(replace(good, "\"type\":\"posts\"", "\"type\":\"\""));
  refused(replace(good, "\"index\":0}", "\"index\":4294967296}"));
  refused(replace(good, "\"mtime_ns\":\"-5\"", "\"mtime_ns\":\"9223372036854775808\""));
  refused(replace(good, "\"mtime_ns\":\"-5\"", "\"mtime_ns\":\"-0\""));
  refused(replace(good, "\"prev\":\"" + kPrev, "\"prev\":\"" + kPrev.substr(1)));
  refused(replace(good, "\"host\":\"host-1\"", "\"host\":\"host-1\",\"host\":\"x\""));
  refused(good + " ");
  refused(good.substr(0, good.size() - 1));
  refused("");
  refused("[]");
  refused("{\"v\":1}");
  refused(replace(good, "host-1", "host-\xff"));  // not UTF-8
}

Test(entry, sizes_are_bounded) {
  Entry e = entry(2, "h", 1);
  for (uint64_t i = 0; i <= kMaxEntryOps; ++i) {
    e.ops.push_back(log_op(i, SetDirMtime{"/posts", 1}));
  }
  cr_assert(refused(encode_entry(e)).find("ops") != std::string::npos);
  e.ops.resize(1);
  e.ops[0].change = SetDirMtime{std::string(kMaxEntryBytes, 'd'), 1};
  cr_assert(refused(encode_entry(e)).find("bytes") != std::string::npos);
}

Test(entry, mutated_bytes_never_crash_and_what_is_read_is_canonical) {
  std::string good = encode_entry(every_op());
  std::mt19937 random(12345);
  unsigned accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = good;
    int edits = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < edits; ++i) {
      size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0:
          bytes[at] = static_cast<char>(random());
          break;
        case 1:
          bytes.erase(at, 1 + random() % 4);
          break;
        default:
          bytes.insert(at, 1, "{}[]\",:0a\\"[random() % 10]);
          break;
      }
      if (bytes.empty()) bytes = "x";
    }
    auto decoded = decode_entry(bytes);
    if (decoded) {
      ++accepted;
      cr_assert_eq(encode_entry(*decoded), bytes);
    }
  }
  cr_assert_lt(accepted, 20000u);
}

Test(json, strict_reading) {
  auto ok = parse_json(" {\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\ud83d\\ude00\\n\"]} ");
  cr_assert(ok.ok(), "%s", ok.ok() ? "" : ok.error().message.c_str());
  const Json* a = ok->find("a");
  cr_assert(a != nullptr && a->items.size() == 6);
  cr_assert_eq(a->items[0].as_uint().value(), 1u);
  cr_assert_not(a->items[1].as_uint().has_value());
  cr_assert_eq(a->items[5].text, "x\u00e9\U0001F600\n");
  const char* bad[] = {"",
                       "{",
                       "{\"a\":1,}",
                       "[1,]",
                       "{\"a\":1,\"a\":2}",
                       "01",
                       "1.",
                       ".5",
                       "-",
                       "1e",
                       "\"\\x\"",
                       "\"\\ud800\"",
                       "\"\\udc00\"",
                       "\"a\nb\"",
                       "\"\xc0\xaf\"",
                       "\"\xed\xa0\x80\"",
                       "\"\xf4\x90\x80\x80\"",
                       "nul",
                       "// c\n1",
                       "1 2",
                       "{'a':1}",
                       "[1]x"};
  for (const char* text : bad) cr_assert_not(parse_json(text).ok(), "accepted %s", text);
  std::string deep(100, '[');
  cr_assert_not(parse_json(deep + std::string(100, ']')).ok(), "nesting is bounded");
  cr_assert(parse_json(std::string(20, '[') + std::string(20, ']')).ok());
}

Test(json, strings_are_written_escaped) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\x01\x1f\xc3\xa9", 9));
  cr_assert_str_eq(out.c_str(), "\"a\\\"b\\\\c\\u0001\\u001f\xc3\xa9\"");
  auto back = parse_json(out);
  cr_assert(back.ok());
  cr_assert_eq(back->text, std::string("a\"b\\c\x01\x1f\xc3\xa9", 9));
}
