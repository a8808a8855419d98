// The live heap, on demand: rulloc_check(), rulloc_dump() and
// rulloc_stats_json() over the process heap while its threads run.
//
// Nothing here allocates: every text is formatted on the stack
// (base::Text) and written in pieces. Each lock is taken only for what it
// guards and one at a time (the segments' lock inside a pool's, as malloc
// itself nests them), so running threads wait at most for one slab or one
// bucket:
//
//   segments' lock    every segment header and the totals     (check)
//                     one segment's shapes, copied            (all three)
//   a pool's lock     one slab of that pool, or its list      (all three)
//   a bucket's lock   that bucket's regions and blocks        (all three)
//
// The dump taken on a signal uses try-locks only, spinning briefly: the
// thread it interrupted may hold any of these locks, so a part whose lock
// is held is drawn as "busy" instead of waited for.
#include "heap/inspect.hpp"

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/json.hpp"
#include "base/spool.hpp"
#include "base/text.hpp"
#include "core/laned_engine.hpp"
#include "core/page_map.hpp"
#include "heap/cache_checks.hpp"
#include "heap/class_pool.hpp"
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

bool check_at_exit = false;
int dump_signal = 0;
// One dump at a time (a signal may come while one is written).
std::atomic<bool> dumping{false};

void to_report(void*, const char* text, std::size_t length) noexcept {
  platform::write_report(text, length);
}

void say(const char* text) noexcept {
  platform::write_report(text, std::strlen(text));
}

// How long rulloc_check() waits for the other threads to check their own
// caches (a busy thread answers within 1024 of its calls; an idle one
// never).
constexpr unsigned long kCacheAnswerMs = 50;

// `unchecked_caches`: other threads that did not check their caches.
bool check_all(base::Text& error, std::size_t& unchecked_caches) noexcept {
  unchecked_caches = 0;
  const core::LanedEngine* engine = built_engine();
  if (engine == nullptr) return true;  // nothing built, nothing to break
  if (!heap_segments().check(error, heap_pools().lanes())) return false;
  // Every slab in use, full ones included (no pool lists those), each
  // under its own pool's lock.
  for (const Segment* s = heap_segments().newest(); s != nullptr;
       s = s->older) {
    SegmentView view;
    heap_segments().view(s, &view, false);
    for (std::size_t i = 1; i < kSlabsPerSegment; ++i) {
      if ((view.free_slabs >> i) & 1) continue;
      if (heap_pools().look_at_slab(&s->slabs[i], view.shapes[i], false,
                                    nullptr, &error) == SlabLook::kBroken) {
        return false;
      }
    }
  }
  if (!heap_pools().check(error)) return false;
  if (!check_own_cache(error, "this thread's")) return false;
  // Every other thread checks its own, if it makes a call meanwhile.
  if (!check_other_caches(error, kCacheAnswerMs, &unchecked_caches)) {
    return false;
  }
  return engine->check(error);
}

// What the slabs hold, from every segment and slab in use.
struct SlabTotals {
  std::size_t segments, slabs_in_use, free_dirty, free_purged, busy;
  std::size_t free_dirty_resident;  // of the free_dirty slabs' bytes
  std::size_t used_bytes, free_bytes, uncarved_bytes, tail_bytes;
  struct Class {
    std::size_t slabs, used, free, uncarved;
  } classes[kClassCount];
  struct Lane {
    std::size_t slabs, used_bytes, free_bytes;
  } lanes[kMaxLanes];
};

void add_slab(SlabTotals& t, const SlabShape& shape,
              const SlabFigures& f) noexcept {
  const std::size_t size = shape.block_size;
  t.used_bytes += f.used * size;
  t.free_bytes += f.free * size;
  t.uncarved_bytes += (shape.capacity - f.carved) * size;
  t.tail_bytes += kSlabBytes - std::size_t{shape.capacity} * size;
  SlabTotals::Class& c = t.classes[shape.size_class % kClassCount];
  ++c.slabs;
  c.used += f.used;
  c.free += f.free;
  c.uncarved += shape.capacity - f.carved;
  SlabTotals::Lane& l = t.lanes[shape.lane % kMaxLanes];
  ++l.slabs;
  l.used_bytes += f.used * size;
  l.free_bytes += f.free * size;
}

void count_slabs(SlabTotals& t, bool try_only) noexcept {
  t = SlabTotals{};
  for (const Segment* s = heap_segments().newest(); s != nullptr;
       s = s->older) {
    ++t.segments;
    SegmentView view;
    if (!heap_segments().view(s, &view, try_only)) {
      ++t.busy;
      continue;
    }
    for (std::size_t i = 1; i < kSlabsPerSegment; ++i) {
      const std::uint64_t bit = std::uint64_t{1} << i;
      if (view.free_slabs & bit) {
        ++((view.dirty_slabs & bit) ? t.free_dirty : t.free_purged);
        // Pages of blocks never carved were never touched. Asked after the
        // lock: the slab may be taken meanwhile (a figure, not a check).
        if (view.dirty_slabs & bit) {
          t.free_dirty_resident +=
              platform::resident_bytes(slab_start(&s->slabs[i]), kSlabBytes);
        }
        continue;
      }
      ++t.slabs_in_use;
      SlabFigures f;
      const SlabLook look = heap_pools().look_at_slab(
          &s->slabs[i], view.shapes[i], try_only, &f, nullptr);
      if (look == SlabLook::kSeen) {
        add_slab(t, view.shapes[i], f);
      } else if (look == SlabLook::kBusy) {
        ++t.busy;
      }
    }
  }
}

// --- the dump --------------------------------------------------------------

void dump_segment(base::Text& out, const Segment* s, bool try_only,
                  SlabTotals& t) noexcept {
  SegmentView view;
  if (!heap_segments().view(s, &view, try_only)) {
    out << "segment " << static_cast<const void*>(s)
        << ": busy (the segments' lock is held)\n";
    return;
  }
  const std::size_t free_slabs =
      static_cast<std::size_t>(std::popcount(view.free_slabs));
  const std::size_t dirty =
      static_cast<std::size_t>(std::popcount(view.dirty_slabs));
  out << "segment " << static_cast<const void*>(s) << ": "
      << kSlabsPerSegment - 1 - free_slabs << " slabs in use, " << free_slabs
      << " free (" << free_slabs - dirty << " purged)\n";
  for (std::size_t i = 1; i < kSlabsPerSegment;) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (view.free_slabs & bit) {
      // A run of free slabs on one line.
      std::size_t last = i, purged = 0;
      while (last + 1 < kSlabsPerSegment &&
             ((view.free_slabs >> (last + 1)) & 1)) {
        ++last;
      }
      for (std::size_t j = i; j <= last; ++j) {
        if (((view.dirty_slabs >> j) & 1) == 0) ++purged;
      }
      out << (last > i ? "  slabs " : "  slab ") << i;
      if (last > i) out << '-' << last;
      out << ": free, " << purged << " purged, " << last - i + 1 - purged
          << " with their pages\n";
      i = last + 1;
      continue;
    }
    const SlabShape& shape = view.shapes[i];
    out << "  slab " << i << ": class " << shape.block_size << " B, lane "
        << shape.lane << ", " << shape.capacity << " blocks: ";
    SlabFigures f;
    switch (
        heap_pools().look_at_slab(&s->slabs[i], shape, try_only, &f, nullptr)) {
      case SlabLook::kSeen:
        add_slab(t, shape, f);
        out << f.used << " used, " << f.free << " free, "
            << shape.capacity - f.carved << " uncarved\n";
        break;
      case SlabLook::kGone:
        out << "changed while drawn\n";
        break;
      case SlabLook::kBusy:
        out << "busy (its pool's lock is held)\n";
        break;
      case SlabLook::kBroken:
        out << "BROKEN (rulloc_check() names what)\n";
        break;
    }
    ++i;
  }
}

void dump_to(base::Text& out, bool try_only) noexcept {
  if (dumping.exchange(true, std::memory_order_acquire)) {
    out << "rulloc: a dump is being written already\n";
    return;
  }
  out << "rulloc heap" << (kSecure ? " (secure)" : "") << '\n';
  const core::LanedEngine* engine = built_engine();
  if (engine == nullptr) {
    out << "not built yet (no allocation so far)\nend of rulloc heap\n";
    dumping.store(false, std::memory_order_release);
    return;
  }
  const Counters counters = read_counters();
  out << "counters: " << counters.allocations << " allocations, "
      << counters.frees << " frees, " << counters.bytes_in_use
      << " bytes in use (peak " << counters.peak_bytes_in_use
      << "), as threads last reported\n";
  SlabTotals t{};
  std::size_t count = 0;
  for (const Segment* s = heap_segments().newest(); s != nullptr;
       s = s->older) {
    ++count;
  }
  out << "segments: " << count << " (" << count * kSegmentBytes
      << " bytes of address space), slabs of " << kSlabBytes << " bytes\n";
  for (const Segment* s = heap_segments().newest(); s != nullptr;
       s = s->older) {
    dump_segment(out, s, try_only, t);
  }
  out << "lanes:\n";
  for (std::size_t lane = 0; lane < heap_pools().lanes(); ++lane) {
    out << "  lane " << lane << ": " << heap_caches().lane_users(lane)
        << " threads, " << t.lanes[lane].slabs << " slabs drawn, "
        << t.lanes[lane].used_bytes << " bytes of blocks out, "
        << t.lanes[lane].free_bytes << " bytes free in slabs\n";
  }
  out << "thread caches and outboxes: " << heap_caches().cached_bytes()
      << " bytes (all threads, as each last reported)\n";
  out << "engine:\n";
  engine->dump(out, try_only);
  out << "end of rulloc heap\n";
  dumping.store(false, std::memory_order_release);
}

void dump_on_signal() noexcept {
  // The map first: once the dump's last line is out, both are written.
  write_map_file(true);
  base::Spool spool;
  {
    base::Text out(base::Spool::sink, &spool);
    dump_to(out, true);
  }
  spool.write_report();
}

// --- JSON ------------------------------------------------------------------

void write_json(base::Text& out) noexcept {
  base::Json json{out};
  out << '{';
  json.field("version", 1);
  json.text("heap", kSecure ? "secure" : "plain");
  const core::LanedEngine* engine = built_engine();
  if (engine == nullptr) {
    json.text("note", "not built yet (no allocation so far)");
    out << "}\n";
    return;
  }
  rulloc_malloc_stats stats;
  get_stats(&stats);  // the calling thread's counters flushed first
  json.open("counters", '{');
  json.field("allocations", stats.allocations);
  json.field("frees", stats.frees);
  json.field("bytes_in_use", stats.bytes_in_use);
  json.field("peak_bytes_in_use", stats.peak_bytes_in_use);
  json.text("note",
            "usable bytes as each thread last reported (every 1024 of its "
            "calls or 1 MiB, the calling thread's now)");
  json.close('}');

  SlabTotals t;
  count_slabs(t, false);
  json.open("segments", '{');
  json.field("count", t.segments);
  json.field("address_space", t.segments * kSegmentBytes);
  json.field("slab_bytes", kSlabBytes);
  json.field("slabs_in_use", t.slabs_in_use);
  json.field("slabs_free_with_pages", t.free_dirty);
  json.field("slabs_free_purged", t.free_purged);
  json.close('}');

  json.open("classes", '[');
  for (std::size_t c = 0; c < kClassCount; ++c) {
    const SlabTotals::Class& k = t.classes[c];
    if (k.slabs == 0) continue;
    json.element('{');
    json.field("size", class_size(c));
    json.field("slabs", k.slabs);
    json.field("blocks_out", k.used);
    json.field("blocks_free", k.free);
    json.field("blocks_uncarved", k.uncarved);
    json.close('}');
  }
  json.close(']');

  json.open("lanes", '[');
  for (std::size_t lane = 0; lane < heap_pools().lanes(); ++lane) {
    json.element('{');
    json.field("threads", heap_caches().lane_users(lane));
    json.field("slabs", t.lanes[lane].slabs);
    json.field("bytes_out", t.lanes[lane].used_bytes);
    json.field("bytes_free", t.lanes[lane].free_bytes);
    json.close('}');
  }
  json.close(']');

  std::size_t engine_used = 0, engine_free = 0, engine_headers = 0,
              engine_cached = 0, engine_purged = 0;
  json.open("buckets", '[');
  for (std::size_t i = 0; i < engine->bucket_count(); ++i) {
    const core::LanedEngine::Account a = engine->account(i);
    const BucketStats s = engine->stats(i);
    engine_used += a.used;
    engine_free += a.free;
    engine_headers += a.headers;
    engine_cached += a.cached;
    engine_purged += a.purged;
    json.element('{');
    if (a.limit == SIZE_MAX) {
      json.text("limit", "dynamic");
    } else {
      json.field("limit", a.limit);
    }
    json.field("regions", s.regions);
    json.field("blocks", s.blocks);
    json.field("free_blocks", s.free_blocks);
    json.field("mapped", a.mapped);
    json.field("used", a.used);
    json.field("free", a.free);
    json.field("headers", a.headers);
    json.field("cached", a.cached);
    json.field("purged", a.purged);
    json.close('}');
  }
  json.close(']');

  // Where the resident memory goes. Blocks out of slabs are either the
  // program's or in a thread's cache or outbox; the caches' figure is
  // what each thread last published.
  const std::size_t cached = heap_caches().cached_bytes();
  const std::size_t small_in_use =
      t.used_bytes > cached ? t.used_bytes - cached : 0;
  const std::size_t page = platform::page_size();
  const std::size_t segment_headers =
      t.segments * ((sizeof(Segment) + page - 1) / page * page);
  const std::size_t page_map_bytes =
      core::page_map::leaves() * sizeof(core::page_map::detail::Leaf);
  const std::size_t metadata = segment_headers + page_map_bytes +
                               engine_headers + bucket_storage_bytes();
  // Free engine blocks count only with their resident pages: a trim
  // purges their whole pages, and a fresh region's are never touched.
  const std::size_t free_in_engine =
      engine_free + engine_cached - engine_purged;
  const std::size_t explained = small_in_use + engine_used + cached +
                                t.free_bytes + t.free_dirty_resident +
                                free_in_engine + metadata;
  json.open("resident", '{');
  json.field("in_use", small_in_use + engine_used);
  json.field("in_use_small", small_in_use);
  json.field("in_use_engine", engine_used);
  json.field("thread_caches", cached);
  json.field("free_in_slabs", t.free_bytes);
  json.field("free_slabs_with_pages", t.free_dirty_resident);
  json.field("free_in_engine", free_in_engine);
  json.field("metadata", metadata);
  json.open("metadata_parts", '{');
  json.field("segment_headers", segment_headers);
  json.field("page_map_leaves", page_map_bytes);
  json.field("block_and_region_headers", engine_headers);
  json.field("bucket_storage", bucket_storage_bytes());
  json.close('}');
  json.field("explained", explained);
  json.field("purged", t.free_purged * kSlabBytes + engine_purged);
  json.field("purged_slabs", t.free_purged * kSlabBytes);
  json.field("purged_in_engine", engine_purged);
  json.field("untouched_in_slabs", t.uncarved_bytes);
  json.field("slab_tails", t.tail_bytes);
  std::size_t resident = 0, file_backed = 0;
  if (platform::resident_memory(&resident, &file_backed)) {
    const std::size_t anonymous = resident - file_backed;
    json.field("kernel_resident", resident);
    json.field("kernel_file_backed", file_backed);
    json.field("kernel_anonymous", anonymous);
    json.signed_field("unexplained", static_cast<long long>(anonymous) -
                                         static_cast<long long>(explained));
  } else {
    json.text("kernel_resident", "unknown");
  }
  json.text("note",
            "explained = in_use + thread_caches + free_in_slabs + "
            "free_slabs_with_pages + free_in_engine + metadata, against the "
            "kernel's anonymous resident pages (resident - file_backed, "
            "from /proc/self/statm); unexplained is the rest: stacks, the "
            "program's and the C library's own mappings, and pages of "
            "blocks in use that the program never touched. Free slabs not "
            "purged yet and free engine blocks count with their resident "
            "pages only (mincore): purged_in_engine is what trims purged or "
            "never touched inside free engine blocks. thread_caches is what "
            "each thread last published (every 1024 of its calls, and at "
            "its exit); in_use_small is the blocks out of slabs less "
            "thread_caches. purged (purged_slabs + purged_in_engine), "
            "untouched_in_slabs (blocks never carved) and slab_tails are "
            "mapped but not resident");
  json.close('}');
  out << "}\n";
}

}  // namespace

namespace {

bool check_into(char* error, std::size_t size,
                std::size_t& unchecked_caches) noexcept {
  base::Bounded bounded(error, size);
  base::Text out(base::Bounded::sink, &bounded);
  return check_all(out, unchecked_caches);
}

}  // namespace

int check(char* error, std::size_t size) noexcept {
  std::size_t unchecked_caches;
  return check_into(error, size, unchecked_caches) ? 0 : 1;
}

// Drawn in memory first: the write comes after every lock is released.
void dump(int descriptor) noexcept {
  base::Spool spool;
  {
    base::Text out(base::Spool::sink, &spool);
    dump_to(out, false);
  }
  spool.write_to(descriptor);
}

std::size_t stats_json(char* buffer, std::size_t size) noexcept {
  base::Bounded bounded(buffer, size);
  {
    base::Text out(base::Bounded::sink, &bounded);
    write_json(out);
  }
  return bounded.length;
}

void print_stats_json() noexcept {
  base::Text out(to_report, nullptr);
  write_json(out);
}

bool inspect_read_settings() noexcept {
  check_at_exit = option(Option::kCheckAtExit) != 0;
  dump_signal = static_cast<int>(option(Option::kDumpSignal));  // 0: off
  const bool map = map_read_settings();
  return check_at_exit || dump_signal > 0 || map;
}

void inspect_install_signal() noexcept {
  if (dump_signal > 0 && !platform::on_signal(dump_signal, dump_on_signal)) {
    say("rulloc: RULLOC_DUMP_SIGNAL: the signal handler could not be "
        "installed\n");
  }
}

void inspect_at_exit() noexcept {
  write_map_file(false);
  if (!check_at_exit) return;
  char error[512];
  std::size_t unchecked_caches;
  if (check_into(error, sizeof(error), unchecked_caches)) {
    if (unchecked_caches == 0) {
      say("rulloc: heap check at exit: sound\n");
      return;
    }
    char line[128];
    base::Bounded bounded(line, sizeof(line));
    {
      base::Text out(base::Bounded::sink, &bounded);
      out << "rulloc: heap check at exit: sound (the caches of "
          << unchecked_caches
          << " other threads unchecked: they made no call meanwhile)\n";
    }
    say(line);
    return;
  }
  say("rulloc: heap check at exit: ");
  say(error);
  say("\n");
  std::abort();
}

}  // namespace rulloc::heap
