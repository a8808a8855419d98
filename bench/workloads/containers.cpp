// C++ containers churn.
//
// Each thread runs a mix of what C++ programs do with the standard library,
// all through operator new/delete:
//  - std::map<uint64_t, std::string>: insert and erase random keys, with
//    values of 8..200 characters (node + string allocations);
//  - std::unordered_map<std::string, std::vector<uint32_t>>: an index from
//    string keys to growing vectors, with rehashing and erasure;
//  - std::string building: to_string, concatenation, substrings;
//  - std::vector<std::vector<int>>: push_back growth and shrinking;
//  - std::vector of a 64-byte-aligned struct (aligned operator new), whose
//    alignment is checked.
// The contents are folded into the checksum and the map sizes are checked.
//
// --phase rounds runs the other way C++ programs use containers: whole
// structures built and destroyed in rounds. Each round a thread builds a
// std::vector of 100 000 std::string (4..63 characters plus a number, so
// most are beyond the small-string buffer), a std::map keyed by 30 000 of
// them and an std::unordered_map of 1000 vectors holding 20 000 copies, checks
// and hashes them, and destroys it all at the end of the round: bulk
// allocation followed by bulk release, on every thread at once.
// The default, --phase mixed, is the churn above.
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common.hpp"

namespace {

uint64_t hash_str(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct alignas(64) Line {
  uint64_t v[8];
};

uint64_t run_thread(int t, uint64_t rounds) {
  bench::Rng rng(777 + static_cast<uint64_t>(t));
  uint64_t sum = 0;
  std::map<uint64_t, std::string> tree;
  std::unordered_map<std::string, std::vector<uint32_t>> index;
  std::vector<std::vector<int>> vv(256);
  for (uint64_t round = 0; round < rounds; ++round) {
    // Ordered map churn.
    for (int i = 0; i < 200; ++i) {
      const uint64_t key = rng.next() % 50000;
      if (rng.next() & 1) {
        std::string v(8 + rng.next() % 193, static_cast<char>('a' + key % 26));
        v += std::to_string(key);
        tree[key] = std::move(v);
      } else {
        auto it = tree.find(key);
        if (it != tree.end()) {
          sum += hash_str(it->second);
          tree.erase(it);
        }
      }
    }
    // Hash index of string keys to vectors.
    for (int i = 0; i < 100; ++i) {
      std::string key = "k" + std::to_string(rng.next() % 20000) + "/" + std::to_string(t);
      auto& vec = index[key];
      vec.push_back(static_cast<uint32_t>(round));
      if (vec.size() > 40) {
        for (uint32_t x : vec) sum += x;
        index.erase(key);
      }
    }
    // String building.
    std::string line;
    for (int i = 0; i < 50; ++i) {
      line += std::to_string(rng.next() % 1000000);
      line += ',';
    }
    sum += hash_str(line.substr(line.size() / 3, line.size() / 3));
    // Over-aligned elements: storage from aligned operator new.
    {
      std::vector<Line> lines;
      const size_t n = 1 + rng.next() % 64;
      for (size_t k = 0; k < n; ++k) lines.push_back(Line{{k, round, 0, 0, 0, 0, 0, k ^ round}});
      bench::check_aligned(lines.data(), alignof(Line));
      for (const Line& l : lines) sum += l.v[0] + l.v[7];
    }
    // Vectors growing and shrinking.
    for (int i = 0; i < 20; ++i) {
      auto& v = vv[rng.next() % vv.size()];
      const int n = static_cast<int>(rng.next() % 300);
      for (int k = 0; k < n; ++k) v.push_back(k ^ static_cast<int>(round));
      if (v.size() > 5000) {
        for (int x : v) sum += static_cast<uint64_t>(x);
        std::vector<int>().swap(v);
      }
    }
  }
  for (auto& [k, v] : tree) sum += k * 3 + hash_str(v);
  for (auto& v : vv) sum += v.size();
  sum += tree.size() * 1000003 + index.size();
  return sum;
}

uint64_t run_rounds(int t, uint64_t rounds) {
  bench::Rng rng(9001 + static_cast<uint64_t>(t));
  uint64_t sum = 0;
  constexpr size_t kStrings = 100000;
  for (uint64_t round = 0; round < rounds; ++round) {
    std::vector<std::string> strs;  // grown by push_back, no reserve
    for (size_t i = 0; i < kStrings; ++i) {
      std::string s(4 + rng.next() % 60, static_cast<char>('a' + i % 26));
      s += std::to_string(i);
      strs.push_back(std::move(s));
    }
    std::map<std::string, uint32_t> byname;
    for (uint32_t i = 0; i < 30000; ++i) byname.emplace(strs[rng.next() % kStrings], i);
    std::unordered_map<uint64_t, std::vector<std::string>> groups;
    for (int i = 0; i < 20000; ++i) groups[rng.next() % 1000].push_back(strs[rng.next() % kStrings]);
    // Check what was built, and fold it into the checksum.
    for (size_t i = 0; i < kStrings; ++i) {
      const std::string& s = strs[i];
      if (s.size() < 5 || s[0] != static_cast<char>('a' + i % 26) || s.back() != static_cast<char>('0' + i % 10))
        bench::fail("string contents", s.data(), s.size(), i);
      sum += hash_str(s);
    }
    if (byname.size() > 30000) bench::fail("map size", &byname, byname.size(), 0);
    for (const auto& [k, v] : byname) sum = sum * 31 + hash_str(k) + v;
    size_t copies = 0;
    for (const auto& [g, v] : groups) {
      copies += v.size();
      sum += g * v.size() + hash_str(v.back());
    }
    if (copies != 20000) bench::fail("group copies", &groups, copies, 0);
    sum = bench::mix(sum + round);
  }  // everything built in the round is destroyed here
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  // --phase mixed|rounds is ours; the rest goes to the common parser.
  bool rounds_phase = false;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--phase" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      if (v != "mixed" && v != "rounds") {
        std::fprintf(stderr, "%s: --phase mixed|rounds\n", argv[0]);
        return 2;
      }
      rounds_phase = v == "rounds";
    } else {
      rest.push_back(argv[i]);
    }
  }
  const bench::Args a = bench::parse_args(static_cast<int>(rest.size()), rest.data());
  const uint64_t rounds = rounds_phase ? a.n(24, 1) : a.n(5000, 20);
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t)
    threads.emplace_back([&, t] {
      sums[static_cast<size_t>(t)] = rounds_phase ? run_rounds(t, rounds) : run_thread(t, rounds);
    });
  for (auto& th : threads) th.join();
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report(rounds_phase ? "containers-rounds" : "containers", sum, rounds * static_cast<uint64_t>(a.threads));
  return 0;
}
