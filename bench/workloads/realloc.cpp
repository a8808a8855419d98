// realloc growth.
//
// Each thread keeps 64 growing buffers, as string builders, vectors and
// network buffers do. A step picks a buffer and grows it with realloc: three
// times in four by a small append (1..64 bytes), otherwise by half its size.
// The new bytes are written; after every realloc the old contents are
// verified (one word per 64 bytes), so a realloc that loses data is caught.
// A buffer that passes 128 KiB is shrunk to a quarter (checked) or freed and
// restarted at 1..64 bytes.
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

struct Buf {
  void* p = nullptr;
  size_t size = 0;
  uint64_t tag = 0;
};

constexpr size_t kStride = 64;

// Write the pattern words whose offsets fall in [from, to).
void write_range(Buf& b, size_t from, size_t to) {
  auto* c = static_cast<unsigned char*>(b.p);
  for (size_t off = (from + kStride - 1) / kStride * kStride; off + 8 <= to; off += kStride)
    bench::store64(c + off, bench::pat(b.tag, off));
}

uint64_t verify(const Buf& b, size_t upto) {
  auto* c = static_cast<const unsigned char*>(b.p);
  for (size_t off = 0; off + 8 <= upto; off += kStride)
    if (bench::load64(c + off) != bench::pat(b.tag, off)) bench::fail("realloc lost data", b.p, b.size, off);
  return bench::mix(b.tag + upto);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const uint64_t steps = a.n(2'100'000, 1000);
  const size_t limit = 128 * 1024;
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      bench::Rng rng(2024 + static_cast<uint64_t>(t));
      std::vector<Buf> bufs(64);
      uint64_t sum = 0;
      for (uint64_t i = 0; i < steps; ++i) {
        Buf& b = bufs[rng.next() % bufs.size()];
        if (b.p == nullptr) {
          b.size = rng.range(1, 64);
          b.tag = rng.next();
          b.p = std::malloc(b.size);
          if (b.p == nullptr) bench::oom(b.size);
          write_range(b, 0, b.size);
          continue;
        }
        const uint64_t r = rng.next();
        size_t grow = (r & 3) != 0 ? 1 + (r >> 8) % 64 : b.size / 2 + 1;
        const size_t old = b.size;
        void* np = std::realloc(b.p, old + grow);
        if (np == nullptr) bench::oom(old + grow);
        b.p = np;
        b.size = old + grow;
        // Verify the part that a moving realloc had to copy, then extend.
        if ((r & 3) != 0 && old > 4096) {
          sum += verify(Buf{b.p, old, b.tag}, 4096);  // cheap check for small appends
        } else {
          sum += verify(b, old);
        }
        write_range(b, old & ~(kStride - 1), b.size);
        if (b.size > limit) {
          sum += verify(b, b.size);
          if ((r >> 60) & 1) {
            const size_t keep = b.size / 4;
            np = std::realloc(b.p, keep);
            if (np == nullptr) bench::oom(keep);
            b.p = np;
            b.size = keep;
            sum += verify(b, keep);
          } else {
            std::free(b.p);
            b.p = nullptr;
          }
        }
      }
      for (Buf& b : bufs)
        if (b.p != nullptr) {
          sum += verify(b, b.size);
          std::free(b.p);
        }
      sums[static_cast<size_t>(t)] = sum;
    });
  }
  for (auto& th : threads) th.join();
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report("realloc", sum, steps * static_cast<uint64_t>(a.threads));
  return 0;
}
