// The whole operating-system surface of rulloc: memory (page size, map,
// unmap, retire, reserve, remap, purge, guard, which pages are resident),
// random bytes, clocks and sleep, the environment, a thread of rulloc's
// own, a hook at thread exit, fork hooks, writing reports and files, and
// the definitions of a symbol. One implementation file per OS (linux.cpp,
// windows.cpp); nothing above this layer includes an OS header or calls the
// OS, and .ci/check-layers checks that. None of these functions allocates,
// except that start_thread(), set_fork_hooks() (pthread_create,
// pthread_atfork), next_symbol() and loaded_library_symbol() (dlsym, dlopen)
// may call malloc themselves: the heap calls the first two only once it is
// built, never from inside its own construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace rulloc::platform {

// The virtual memory page size, read from the OS once.
std::size_t page_size() noexcept;

// Maps `length` bytes (a multiple of page_size()) of zeroed, readable and
// writable memory. Returns nullptr when the OS says no; never aborts.
void* map(std::size_t length) noexcept;

// Maps `length` bytes as map() does, at an address that is a multiple of
// `alignment` (a power of two, a multiple of 64 KiB); unmap() returns it.
// nullptr when the OS says no.
void* map_aligned(std::size_t length, std::size_t alignment) noexcept;

// Returns a mapping made by map(). False when the OS refuses.
bool unmap(void* address, std::size_t length) noexcept;

// Replaces a mapping made by map() with an inaccessible reservation of the
// same range that holds no memory, so that no later mapping can land there;
// unmap() releases it. False when the OS refuses: the range may then be
// mapped as before or not at all, and unmap() is still the way to end it.
bool retire(void* address, std::size_t length) noexcept;

// Reserves [address, address + length) as retire() would, but only if
// nothing is mapped there. False otherwise, or when the OS says no.
bool reserve(void* address, std::size_t length) noexcept;

// Resizes a mapping made by map() (or returned by remap()) to `new_length`,
// keeping its contents, and returns its address: the same one when the OS
// can resize it in place, else a new one (the old range is then gone).
// nullptr when the OS cannot (always on Windows): the mapping is unchanged.
void* remap(void* address, std::size_t old_length,
            std::size_t new_length) noexcept;

// Whether unmap(), retire() and remap() also take any page-aligned part of
// a mapping, so that one mapping can be cut into regions of its own.
bool maps_split() noexcept;

// Tells the OS that the pages' contents are no longer needed; they stay
// mapped and read as zero (or their old contents) afterwards.
bool purge(void* address, std::size_t length) noexcept;
// Whether pages purge() gave back read as zero afterwards (Linux's
// MADV_DONTNEED: yes; Windows' MEM_RESET: no, they may keep their bytes),
// so calloc need not write them.
bool purge_zeroes() noexcept;

// Makes mapped pages inaccessible: a guard, which stops the program on any
// access. False when the OS refuses.
bool make_guard(void* address, std::size_t length) noexcept;

// Writes `length` bytes to standard error without allocating.
void write_error(const char* text, std::size_t length) noexcept;

// Takes a copy of standard error now, for reports written much later (the
// statistics at exit): some programs close their stderr before that (GNU
// coreutils, in an atexit handler). Without a copy (never taken, or the OS
// refused), write_report() writes to standard error itself.
void keep_report_output() noexcept;
void write_report(const char* text, std::size_t length) noexcept;

// Milliseconds of a clock that never goes back; no lock, no allocation.
unsigned long long monotonic_ms() noexcept;
// The same clock in nanoseconds (or its finest unit, scaled to them).
unsigned long long monotonic_ns() noexcept;

// Sleeps the calling thread for `ms` milliseconds (all of them: a signal
// does not cut the sleep short).
void sleep_ms(unsigned long ms) noexcept;

// Gives the CPU to another thread that can run: a spinning thread's way to
// let a preempted lock holder finish.
void yield() noexcept;

// Where a lock's waiters sleep: wait_while() blocks while `word` holds
// `value` (it may return early; the caller looks again), wake_one() wakes
// a thread waiting on `word`. Linux: a private futex. Windows: WaitOnAddress
// (Windows 8 and later; where it is missing, a waiter yields instead).
void wait_while(const std::atomic<std::uint32_t>& word,
                std::uint32_t value) noexcept;
void wake_one(std::atomic<std::uint32_t>& word) noexcept;

// Fills `length` bytes from the OS's random source without blocking. False
// when it gave fewer (too early in boot, or no such source): the caller
// then has to do with weaker randomness.
bool random_bytes(void* out, std::size_t length) noexcept;

// Copies the value of the environment variable `name` into `out` (at most
// `size` - 1 bytes and a NUL) without allocating. Returns the value's whole
// length, so a result >= `size` means the copy was cut short, or -1 when
// the variable is not set. In a program run with more privileges than its
// caller's (set-uid, set-gid, file capabilities: Linux's AT_SECURE) every
// variable reads as not set, as with glibc's secure_getenv; Windows has no
// such programs.
long environment(const char* name, char* out, std::size_t size) noexcept;

// The CPUs this process may run on (at least 1), without allocating: how
// many lanes the process heap builds.
unsigned cpu_count() noexcept;

// Starts a thread of rulloc's own that runs `body` once, then ends: detached
// (nobody waits for it), with a small stack (64 KiB: its loop calls nothing
// deep), every signal blocked so that it never takes one of the program's,
// and `name` (15 characters at most) where tools show thread names. False
// when the OS refuses.
bool start_thread(void (*body)(), const char* name) noexcept;

// Once per process: from then on `hook` runs in each thread that called
// call_at_thread_exit(), as that thread exits, with the value it gave. False
// when the OS has no room for the hook.
bool set_thread_exit_hook(void (*hook)(void*)) noexcept;
// Has the hook run at the calling thread's exit with `value` (not nullptr).
void call_at_thread_exit(void* value) noexcept;

// Has fork() call `before` in the parent before it forks, then `in_parent`
// in the parent and `in_child` in the child once it has. False when the OS
// refuses; true and nothing to do where there is no fork().
bool set_fork_hooks(void (*before)(), void (*in_parent)(),
                    void (*in_child)()) noexcept;

// True when start_thread() may be called from anywhere, inside malloc and
// free too: no lock that creating a thread takes can be held by a caller
// of free. Linux: while the process has never had a second thread (glibc
// frees with a lock of its thread code held). Windows: always.
bool thread_start_is_safe_anywhere() noexcept;

// Whether the C runtime allocates from a heap of its own that a program
// linking rulloc's malloc does not replace, so that free() also meets
// blocks rulloc never returned without any misuse: on Windows, the C runtime
// DLL's own calls (_strdup, _getcwd, ...) never reach the program's malloc.
// On Linux glibc's calls reach rulloc's malloc too.
#if defined(_WIN32)
inline constexpr bool kRuntimeHasOwnHeap = true;
#else
inline constexpr bool kRuntimeHasOwnHeap = false;
#endif

// The definition of the function `name` that comes after rulloc's own: the
// C library's, for the functions the override layer wraps or hands on to.
// Linux: the next in the dynamic linker's search order (dlsym(RTLD_NEXT)
// from the object rulloc is linked into). Windows: the C runtime DLL's
// export (msvcrt.dll or ucrtbase.dll, whichever the program imports).
// nullptr when there is none.
void* next_symbol(const char* name) noexcept;

// The definition of `name` in the shared library `library` (a file name
// such as "libstdc++.so.6") or in the libraries it depends on, if the
// process has loaded it, whether for the program or for a library opened
// with its own local scope (dlopen(RTLD_LOCAL), as Python opens extension
// modules); it never loads it. For librulloc.so, which links no C++ runtime
// and calls the program's when operator new fails. nullptr when it is not
// loaded or lacks `name` (always on Windows, where rulloc is linked with its
// C++ runtime).
void* loaded_library_symbol(const char* library, const char* name) noexcept;

// For looking at the live heap (heap/inspect.cpp): none of these allocates,
// and write_to() and resident_memory() may be called from a signal handler.

// Writes `length` bytes to the open descriptor `descriptor` (a file
// descriptor on POSIX, a C runtime descriptor on Windows).
void write_to(int descriptor, const char* text, std::size_t length) noexcept;

// Calls `work(context)`; should the thread be cancelled in it (POSIX
// cancellation, at a blocking write), calls `on_cancel(context)` on the way
// out, which the destructors of a library built without exceptions would
// not do. Windows has no cancellation: only `work`.
void run_cancellable(void (*work)(void*), void (*on_cancel)(void*),
                     void* context) noexcept;

// The resident memory of the process as the OS counts it, in bytes: all of
// it, and the part backed by files (program code, shared libraries). Linux
// reads /proc/self/statm. False when the OS cannot tell (Windows: a stub).
bool resident_memory(std::size_t* resident, std::size_t* file_backed) noexcept;

// The bytes of [address, address + length) that are resident now, both
// page-aligned and inside mappings made by map(): Linux asks mincore(), a
// page at a time in batches. `length` when the OS cannot tell (Windows: a
// stub), so a caller's account stays as it was without it.
std::size_t resident_bytes(const void* address, std::size_t length) noexcept;

// Creates the file at `path` (emptied if it exists, readable by all) for
// write_to(); its descriptor, or -1 when the OS refuses. close_file() closes
// it. Both may be called from a signal handler.
int create_file(const char* path) noexcept;
void close_file(int descriptor) noexcept;

// The id of the calling process.
unsigned long process_id() noexcept;

// The number of the signal `text` names: "SIGUSR2", "USR2" or "12". -1 when
// it names no signal a handler may take (SIGKILL, SIGSTOP, unknown names;
// always on Windows).
int signal_number(const char* text) noexcept;

// From now on `handler` runs whenever the process receives signal `number`,
// on whichever thread takes it, with errno kept for the interrupted code and
// interrupted system calls restarted. False when the OS refuses (always on
// Windows, which has no such signals).
bool on_signal(int number, void (*handler)()) noexcept;

}  // namespace rulloc::platform
