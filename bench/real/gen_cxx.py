"""Generate the C++ program that the g++ workload compiles and runs.

SCALE * 8 functions, each instantiating standard containers and
algorithms on a type of its own (std::map, std::unordered_map, std::vector
of a struct, std::string building, std::sort with a lambda, std::optional), so the compiler parses, instantiates and optimises a lot of
template code: cc1plus allocates millions of small objects (trees, RTL,
hash tables) through malloc. main() calls every function and prints a
checksum, which must be the same under every allocator. Usage: gen_cxx.py
[SCALE] > prog.cpp
"""
import sys

HEAD = """#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>
static uint64_t rng_state = 12345;
static uint64_t rnd() { rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull; return rng_state >> 33; }
"""

FUNC = """
struct Rec{i} {{ int a; double b; std::string name; std::vector<short> v; }};
static uint64_t fn{i}() {{
  std::map<std::string, std::vector<Rec{i}>> m;
  std::unordered_map<int, std::optional<Rec{i}>> u;
  for (int k = 0; k < {n}; ++k) {{
    Rec{i} r{{k * {i}, k / 3.0, "r" + std::to_string(rnd() % {mod}), std::vector<short>(k % 7, short(k))}};
    m[r.name].push_back(r);
    if (k % 3 == 0) u[k % 97] = r; else u.erase(k % 89);
  }}
  std::vector<Rec{i}> all;
  for (auto& [key, list] : m) all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end(), [](const Rec{i}& x, const Rec{i}& y) {{ return x.name < y.name || (x.name == y.name && x.a > y.a); }});
  uint64_t h = m.size() * 1000003u + u.size();
  for (const auto& r : all) h = h * 31 + uint64_t(r.a) + r.name.size() + r.v.size();
  return h;
}}
"""


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    count = max(2, int(8 * scale))
    out = [HEAD]
    for i in range(count):
        out.append(FUNC.format(i=i, n=200 + i % 50, mod=20 + i % 30))
    out.append("int main() {\n  uint64_t h = 0;\n")
    for i in range(count):
        out.append("  h = h * 1099511628211ull ^ fn%d();\n" % i)
    out.append('  std::printf("cxx functions=%d checksum=%%016llx\\n", (unsigned long long)h);\n  return 0;\n}\n' % count)
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
