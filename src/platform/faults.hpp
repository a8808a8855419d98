// Fault injection for tests: makes the kernel "refuse" mappings on demand,
// so every failure path can be driven deterministically. Off unless a test
// arms it; the check costs one relaxed load per region mapped.
#pragma once

#include <cstddef>

namespace rulloc::platform::faults {

// From now on, the first `successes` maps succeed and every later one fails.
void fail_maps_after(std::size_t successes) noexcept;
// From now on, only the map after `successes` successful ones fails.
void fail_one_map_after(std::size_t successes) noexcept;
// Maps succeed again.
void disarm() noexcept;
// How many maps were refused since the last arming.
std::size_t refused() noexcept;

// Called before each map: true when this one must fail.
bool map_should_fail() noexcept;

}  // namespace rulloc::platform::faults
