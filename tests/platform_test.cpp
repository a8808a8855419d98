// The platform layer's services beyond memory (src/platform/platform.hpp),
// on every OS rulloc builds for: random bytes, the clocks and sleep, the
// environment, a thread of rulloc's own, the hook at thread exit, fork hooks
// and the next definition of a symbol. Under wine this is what tests the
// Windows implementations that the process heap needs.
#include "platform/platform.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace {

namespace platform = rulloc::platform;

void set_variable(const char* name, const char* value) {
#ifdef _WIN32
  ASSERT_TRUE(SetEnvironmentVariableA(name, value));
#else
  if (value == nullptr) {
    ASSERT_EQ(unsetenv(name), 0);
  } else {
    ASSERT_EQ(setenv(name, value, 1), 0);
  }
#endif
}

TEST(Platform, RandomBytesFillEveryByteAndDiffer) {
  unsigned char a[37] = {}, b[37] = {};
  ASSERT_TRUE(platform::random_bytes(a, sizeof(a)));
  ASSERT_TRUE(platform::random_bytes(b, sizeof(b)));
  EXPECT_NE(std::memcmp(a, b, sizeof(a)), 0);
  // The last byte (past the last whole word) is written too: of 16 fills,
  // not all leave it 0.
  int nonzero = 0;
  for (int i = 0; i < 16; ++i) {
    unsigned char c[5] = {};
    ASSERT_TRUE(platform::random_bytes(c, sizeof(c)));
    nonzero += c[4] != 0;
  }
  EXPECT_GT(nonzero, 0);
}

TEST(Platform, ClocksNeverGoBackAndSleepWaitsItsTime) {
  const unsigned long long ms0 = platform::monotonic_ms();
  const unsigned long long ns0 = platform::monotonic_ns();
  platform::sleep_ms(30);
  const unsigned long long ms1 = platform::monotonic_ms();
  const unsigned long long ns1 = platform::monotonic_ns();
  EXPECT_GE(ms1 - ms0, 29u);  // the two readings may round apart by 1
  EXPECT_GE(ns1 - ns0, 30'000'000u);
  // One clock in two units.
  EXPECT_LE(ns1 / 1'000'000 - ms1, 5u);
  unsigned long long last = platform::monotonic_ns();
  for (int i = 0; i < 1000; ++i) {
    const unsigned long long now = platform::monotonic_ns();
    ASSERT_GE(now, last);
    last = now;
    platform::yield();
  }
}

TEST(Platform, EnvironmentIsCopiedAndCutShort) {
  char out[16];
  set_variable("RULLOC_PLATFORM_TEST", nullptr);
  EXPECT_EQ(platform::environment("RULLOC_PLATFORM_TEST", out, sizeof(out)),
            -1);
  set_variable("RULLOC_PLATFORM_TEST", "hello");
  EXPECT_EQ(platform::environment("RULLOC_PLATFORM_TEST", out, sizeof(out)), 5);
  EXPECT_STREQ(out, "hello");
  // Too long for the buffer: the whole length, and what fits.
  char small[3];
  EXPECT_EQ(platform::environment("RULLOC_PLATFORM_TEST", small, sizeof(small)),
            5);
  EXPECT_STREQ(small, "he");
  const std::string long_value(300, 'x');
  set_variable("RULLOC_PLATFORM_TEST", long_value.c_str());
  EXPECT_EQ(platform::environment("RULLOC_PLATFORM_TEST", out, sizeof(out)),
            300);
  EXPECT_EQ(std::string(out), std::string(15, 'x'));
  set_variable("RULLOC_PLATFORM_TEST", nullptr);
}

std::atomic<int> thread_ran{0};
std::atomic<bool> signals_blocked{false};

void thread_body() {
#ifndef _WIN32
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  signals_blocked = sigismember(&mask, SIGINT) == 1 &&
                    sigismember(&mask, SIGTERM) == 1 &&
                    sigismember(&mask, SIGUSR1) == 1;
#else
  signals_blocked = true;
#endif
  thread_ran.fetch_add(1);
}

TEST(Platform, StartThreadRunsTheBodyWithSignalsBlocked) {
#ifndef _WIN32
  sigset_t before, after;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
#endif
  ASSERT_TRUE(platform::start_thread(thread_body, "rulloc-test"));
  for (int i = 0; i < 500 && thread_ran.load() == 0; ++i) {
    platform::sleep_ms(10);
  }
  EXPECT_EQ(thread_ran.load(), 1);
  EXPECT_TRUE(signals_blocked.load());
#ifndef _WIN32
  // The caller's own mask is as it was.
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  for (int s : {SIGINT, SIGTERM, SIGUSR1}) {
    EXPECT_EQ(sigismember(&before, s), sigismember(&after, s)) << s;
  }
#endif
}

std::atomic<void*> exit_value{nullptr};
std::atomic<int> exit_calls{0};

void on_exit(void* value) {
  exit_value = value;
  exit_calls.fetch_add(1);
}

TEST(Platform, ThreadExitHookRunsForThreadsThatAskedOnly) {
  ASSERT_TRUE(platform::set_thread_exit_hook(on_exit));
  static int token;
  std::thread([] { platform::call_at_thread_exit(&token); }).join();
  EXPECT_EQ(exit_calls.load(), 1);
  EXPECT_EQ(exit_value.load(), &token);
  std::thread([] {}).join();
  EXPECT_EQ(exit_calls.load(), 1);
}

std::atomic<int> fork_before{0}, fork_parent{0}, fork_child{0};

TEST(Platform, ForkHooks) {
  ASSERT_TRUE(platform::set_fork_hooks([] { fork_before.fetch_add(1); },
                                       [] { fork_parent.fetch_add(1); },
                                       [] { fork_child.fetch_add(1); }));
#ifndef _WIN32
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    _exit(fork_before.load() == 1 && fork_child.load() == 1 &&
                  fork_parent.load() == 0
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(fork_before.load(), 1);
  EXPECT_EQ(fork_parent.load(), 1);
  EXPECT_EQ(fork_child.load(), 0);
#endif
}

TEST(Platform, NextSymbolFindsTheCLibrarysFunctions) {
  // This test program defines no malloc: the next one is the C library's
  // (on Windows the C runtime DLL's, which gives real blocks).
  auto* c_malloc =
      reinterpret_cast<void* (*)(std::size_t)>(platform::next_symbol("malloc"));
  auto* c_free =
      reinterpret_cast<void (*)(void*)>(platform::next_symbol("free"));
  ASSERT_NE(c_malloc, nullptr);
  ASSERT_NE(c_free, nullptr);
  void* block = c_malloc(100);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, 100);
  c_free(block);
  EXPECT_EQ(platform::next_symbol("rulloc_no_such_function"), nullptr);
}

}  // namespace
