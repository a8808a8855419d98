// The map of the live heap as JSON: rulloc_map_json(), RULLOC_MAP_FILE.
// Where rulloc_dump() draws the heap as text, this lists its layout for a
// picture (tools/rulloc-map): every segment and each of its slabs, the
// lanes, the thread caches' total, every engine bucket's regions and their
// blocks with their offsets. The locks are those of the dump (inspect.cpp):
// the segments' lock to copy one segment's shapes, one pool's lock per
// slab, one bucket's lock per bucket, never two at a time; a signal's
// snapshot only tries them and marks a part whose lock is held "busy".
#include <atomic>
#include <cstdint>
#include <cstring>

#include "base/json.hpp"
#include "base/spool.hpp"
#include "base/text.hpp"
#include "core/laned_engine.hpp"
#include "heap/class_pool.hpp"
#include "heap/inspect.hpp"
#include "heap/options.hpp"
#include "heap/process_heap.hpp"
#include "heap/secure.hpp"
#include "heap/segments.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "heap/thread_cache.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {
namespace {

// The option map_file (options.hpp): where the map goes at exit and on the
// dump signal, with %p (the process id) and %n (the snapshot's number)
// filled in.
const char* map_file = "";
std::atomic<unsigned> snapshots{0};
std::atomic<bool> writing{false};

void say(const char* text) noexcept {
  platform::write_report(text, std::strlen(text));
}

void write_slab(base::Json& json, const Segment* segment, std::size_t index,
                const SegmentView& view, bool try_only) noexcept {
  const std::uint64_t bit = std::uint64_t{1} << index;
  json.element('{');
  json.field("index", index);
  if (view.free_slabs & bit) {
    json.text("state", (view.dirty_slabs & bit) ? "free" : "purged");
    json.close('}');
    return;
  }
  const SlabShape& shape = view.shapes[index];
  SlabFigures f{};
  const SlabLook look = heap_pools().look_at_slab(&segment->slabs[index], shape,
                                                  try_only, &f, nullptr);
  if (look == SlabLook::kGone) {  // given back or taken again meanwhile
    json.text("state", "gone");
    json.close('}');
    return;
  }
  json.text("state", look == SlabLook::kSeen   ? "used"
                     : look == SlabLook::kBusy ? "busy"
                                               : "broken");
  json.field("class", shape.size_class);
  json.field("size", shape.block_size);
  json.field("lane", shape.lane);
  json.field("capacity", shape.capacity);
  if (look == SlabLook::kSeen) {
    json.field("used", f.used);
    json.field("free", f.free);
    json.field("uncarved", shape.capacity - f.carved);
  }
  json.close('}');
}

void write_segments(base::Json& json, bool try_only) noexcept {
  json.open("segments", '[');
  for (const Segment* s = heap_segments().newest(); s != nullptr;
       s = s->older) {
    json.element('{');
    json.address("address", s);
    SegmentView view;
    if (!heap_segments().view(s, &view, try_only)) {
      json.text("state", "busy");
      json.close('}');
      continue;
    }
    json.text("state", "seen");
    json.open("slabs", '[');
    for (std::size_t i = 1; i < kSlabsPerSegment; ++i) {
      write_slab(json, s, i, view, try_only);
    }
    json.close(']');
    json.close('}');
  }
  json.close(']');
}

// One bucket's regions as JSON objects, blocks as [offset, bytes, free,
// purged] arrays.
class RegionsJson final : public core::RegionVisitor {
 public:
  explicit RegionsJson(base::Json& json) noexcept : json_(json) {}
  void region(const void* address, std::size_t bytes, std::size_t header,
              bool cached) noexcept override {
    json_.element('{');
    json_.address("address", address);
    json_.field("bytes", bytes);
    json_.field("header", header);
    if (cached) json_.text("state", "cached");
    json_.open("blocks", '[');
  }
  void block(std::size_t offset, std::size_t bytes, bool free,
             std::size_t purged) noexcept override {
    json_.element('[');
    json_.value(offset);
    json_.value(bytes);
    json_.value(free ? 1 : 0);
    json_.value(purged);
    json_.close(']');
  }
  void region_end() noexcept override {
    json_.close(']');
    json_.close('}');
  }

 private:
  base::Json& json_;
};

void write_engine(base::Json& json, const core::LanedEngine& engine,
                  bool try_only) noexcept {
  json.open("engine", '{');
  json.key("block_fields");
  json.out << "[\"offset\", \"bytes\", \"free\", \"purged\"]";
  json.open("buckets", '[');
  for (std::size_t i = 0; i < engine.bucket_count(); ++i) {
    json.element('{');
    json.field("index", i);
    if (engine.limit(i) == SIZE_MAX) {
      json.text("limit", "dynamic");
    } else {
      json.field("limit", engine.limit(i));
    }
    json.open("regions", '[');
    RegionsJson regions(json);
    const bool seen = engine.visit(i, regions, try_only);
    json.close(']');
    json.text("state", seen ? "seen" : "busy");
    json.close('}');
  }
  json.close(']');
  json.close('}');
}

// The map file's name: map_file with %p and %n filled in.
bool file_name(char* out, std::size_t size, unsigned number) noexcept {
  base::Bounded name(out, size);
  {
    base::Text text(base::Bounded::sink, &name);
    for (const char* c = map_file; *c != '\0'; ++c) {
      if (c[0] == '%' && c[1] == 'p') {
        text << platform::process_id();
        ++c;
      } else if (c[0] == '%' && c[1] == 'n') {
        text << number;
        ++c;
      } else {
        text << *c;
      }
    }
  }
  return name.length < size;
}

}  // namespace

void write_map_json(base::Text& out, bool try_only) noexcept {
  base::Json json{out};
  out << '{';
  json.text("format", "rulloc-map");
  json.field("version", 1);
  json.text("heap", kSecure ? "secure" : "plain");
  json.field("pid", platform::process_id());
  const core::LanedEngine* engine = built_engine();
  if (engine == nullptr) {
    json.text("note", "not built yet (no allocation so far)");
    out << "}\n";
    return;
  }
  json.field("page_size", platform::page_size());
  json.field("segment_bytes", kSegmentBytes);
  json.field("slab_bytes", kSlabBytes);
  json.field("slabs_per_segment", kSlabsPerSegment);
  json.open("class_sizes", '[');
  for (std::size_t c = 0; c < kClassCount; ++c) json.value(class_size(c));
  json.close(']');
  if (!try_only) flush_own_counters();  // a signal may have cut into them
  const Counters counters = read_counters();
  json.open("counters", '{');
  json.field("allocations", counters.allocations);
  json.field("frees", counters.frees);
  json.field("bytes_in_use", counters.bytes_in_use);
  json.field("peak_bytes_in_use", counters.peak_bytes_in_use);
  json.close('}');
  std::size_t resident = 0, file_backed = 0;
  if (platform::resident_memory(&resident, &file_backed)) {
    json.open("kernel", '{');
    json.field("resident", resident);
    json.field("anonymous", resident - file_backed);
    json.close('}');
  }
  json.open("thread_caches", '{');
  json.field("bytes", heap_caches().cached_bytes());
  json.field("threads", static_cast<std::size_t>(heap_caches().live_threads()));
  json.close('}');
  json.open("lanes", '[');
  for (std::size_t lane = 0; lane < heap_pools().lanes(); ++lane) {
    json.element('{');
    json.field("lane", lane);
    json.field("threads", heap_caches().lane_users(lane));
    json.close('}');
  }
  json.close(']');
  write_segments(json, try_only);
  write_engine(json, *engine, try_only);
  out << "}\n";
}

std::size_t map_json(char* buffer, std::size_t size) noexcept {
  base::Bounded bounded(buffer, size);
  {
    base::Text out(base::Bounded::sink, &bounded);
    write_map_json(out, false);
  }
  return bounded.length;
}

bool map_read_settings() noexcept {
  map_file = option_text(Option::kMapFile);
  return map_file[0] != '\0';
}

bool map_file_set() noexcept { return map_file[0] != '\0'; }

void write_map_file(bool try_only) noexcept {
  if (map_file[0] == '\0') return;
  if (writing.exchange(true, std::memory_order_acquire)) return;
  char name[512];
  const unsigned number = snapshots.fetch_add(1, std::memory_order_relaxed) + 1;
  int descriptor = -1;
  if (file_name(name, sizeof(name), number)) {
    descriptor = platform::create_file(name);
  }
  if (descriptor < 0) {
    say("rulloc: RULLOC_MAP_FILE: cannot create ");
    say(name);
    say("\n");
  } else {
    // Drawn in memory first: the write comes after every lock is released.
    base::Spool spool;
    {
      base::Text out(base::Spool::sink, &spool);
      write_map_json(out, try_only);
    }
    spool.write_to(descriptor);
    platform::close_file(descriptor);
  }
  writing.store(false, std::memory_order_release);
}

}  // namespace rulloc::heap
