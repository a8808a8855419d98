# Reliability tests of the process allocator (issue 11), included from
# tests/dropin/CMakeLists.txt: each could hang, so each has a short timeout.
