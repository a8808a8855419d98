// Windows implementation of the platform layer: VirtualAlloc/VirtualFree,
// RtlGenRandom, QueryPerformanceCounter, Sleep, GetEnvironmentVariableA,
// CreateThread, FlsAlloc's callback at thread exit, WriteFile, SRWLOCK
// (platform/mutex.hpp), the C runtime's own functions by GetProcAddress.
// Per-thread storage is in platform/per_thread.hpp (inline: the fast path).
//
// Differences from POSIX that the contract of platform.hpp hides:
// - VirtualAlloc places mappings on the allocation granularity (64 KiB) but
//   sizes them in pages, so lengths are rounded to dwPageSize, never to
//   dwAllocationGranularity (that would make every small region 16 pages).
// - VirtualFree(MEM_RELEASE) only takes the base of a whole reservation and
//   a size of 0; rulloc always unmaps whole mappings, so that fits unmap().
// - retire() decommits (MEM_DECOMMIT): the reservation stays, so the range
//   cannot be handed out again until unmap() releases it.
// - There is no mremap: remap() always says no and callers copy instead.
// - MEM_RESET keeps the pages committed and lets the OS drop their contents,
//   which is what madvise(MADV_DONTNEED) does for purge().
// - map_aligned() cannot cut the ends off a larger mapping: it reserves a
//   larger range to find an aligned address, releases it and maps there,
//   again if another thread took the range in between.
// - next_symbol() finds the C runtime DLL's own function (msvcrt.dll or
//   ucrtbase.dll, the one this image imports): a program that links the
//   malloc replacement still meets blocks the runtime allocated itself
//   (_strdup, _getcwd, ...), and hands them back to the runtime.
//   loaded_library_symbol() finds nothing: its only use is librulloc.so's.
// - Stubs, where Windows has nothing to match: set_fork_hooks() (there is no
//   fork) does nothing, and start_thread() blocks no signals (a Windows
//   thread takes none; a console's Ctrl+C runs on a thread of its own) and
//   names the thread only where SetThreadDescription exists (Windows 10 1607
//   and later).
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <windows.h>
// After <windows.h>: RtlGenRandom (advapi32's SystemFunction036).
#include <ntsecapi.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "platform/mutex.hpp"
#include "platform/platform.hpp"

namespace rulloc::platform {

std::size_t page_size() noexcept {
  // A benign race: every thread computes the same value.
  static std::atomic<std::size_t> cached{0};
  std::size_t size = cached.load(std::memory_order_relaxed);
  if (size == 0) {
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    size =
        info.dwPageSize > 0 ? static_cast<std::size_t>(info.dwPageSize) : 4096;
    cached.store(size, std::memory_order_relaxed);
  }
  return size;
}

void* map(std::size_t length) noexcept {
  // Committed pages read as zero, like MAP_ANONYMOUS. A length of 0 fails
  // (as mmap does), and so does anything the OS cannot reserve.
  if (length == 0) return nullptr;
  return VirtualAlloc(nullptr, length, MEM_RESERVE | MEM_COMMIT,
                      PAGE_READWRITE);
}

void* map_aligned(std::size_t length, std::size_t alignment) noexcept {
  if (length == 0 || length > SIZE_MAX - alignment) return nullptr;
  for (int attempt = 0; attempt < 64; ++attempt) {
    void* probe =
        VirtualAlloc(nullptr, length + alignment, MEM_RESERVE, PAGE_NOACCESS);
    if (probe == nullptr) return nullptr;
    const auto start = reinterpret_cast<std::uintptr_t>(probe);
    void* aligned = reinterpret_cast<void*>(
        start + (alignment - start % alignment) % alignment);
    VirtualFree(probe, 0, MEM_RELEASE);
    void* mapped =
        VirtualAlloc(aligned, length, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (mapped == aligned) return mapped;
    if (mapped != nullptr) VirtualFree(mapped, 0, MEM_RELEASE);
  }
  return nullptr;
}

bool unmap(void* address, std::size_t length) noexcept {
  // MEM_RELEASE frees the whole reservation made by map() and wants size 0.
  if (address == nullptr || length == 0) return false;
  return VirtualFree(address, 0, MEM_RELEASE) != 0;
}

bool retire(void* address, std::size_t length) noexcept {
  if (address == nullptr || length == 0) return false;
  return VirtualFree(address, length, MEM_DECOMMIT) != 0;
}

bool reserve(void* address, std::size_t length) noexcept {
  if (address == nullptr || length == 0) return false;
  // VirtualAlloc rounds the address down to the allocation granularity.
  void* reserved = VirtualAlloc(address, length, MEM_RESERVE, PAGE_NOACCESS);
  if (reserved == address) return true;
  if (reserved != nullptr) VirtualFree(reserved, 0, MEM_RELEASE);
  return false;
}

void* remap(void* /*address*/, std::size_t /*old_length*/,
            std::size_t /*new_length*/) noexcept {
  return nullptr;
}

// VirtualFree(MEM_RELEASE) takes a whole reservation only.
bool maps_split() noexcept { return false; }

bool purge(void* address, std::size_t length) noexcept {
  if (length == 0) return true;
  // MEM_RESET would round the start down to a page and so drop bytes before
  // `address`; madvise rejects an unaligned start, and so does this.
  if (reinterpret_cast<std::uintptr_t>(address) % page_size() != 0) {
    return false;
  }
  return VirtualAlloc(address, length, MEM_RESET, PAGE_READWRITE) != nullptr;
}

// MEM_RESET only says the contents may be dropped: they may also stay.
bool purge_zeroes() noexcept { return false; }

bool make_guard(void* address, std::size_t length) noexcept {
  DWORD old_protection;
  return VirtualProtect(address, length, PAGE_NOACCESS, &old_protection) != 0;
}

namespace {

void write_all(HANDLE handle, const char* text, std::size_t length) noexcept {
  if (handle == nullptr || handle == INVALID_HANDLE_VALUE) return;
  while (length > 0) {
    const DWORD chunk =
        length > 0x7FFFFFFFu ? 0x7FFFFFFFu : static_cast<DWORD>(length);
    DWORD written = 0;
    if (!WriteFile(handle, text, chunk, &written, nullptr) || written == 0) {
      return;
    }
    text += written;
    length -= written;
  }
}

HANDLE report_handle = nullptr;  // none kept: standard error

}  // namespace

void write_error(const char* text, std::size_t length) noexcept {
  write_all(GetStdHandle(STD_ERROR_HANDLE), text, length);
}

void keep_report_output() noexcept {
  HANDLE process = GetCurrentProcess();
  HANDLE copy = nullptr;
  if (DuplicateHandle(process, GetStdHandle(STD_ERROR_HANDLE), process, &copy,
                      0, FALSE, DUPLICATE_SAME_ACCESS)) {
    report_handle = copy;
  }
}

void write_report(const char* text, std::size_t length) noexcept {
  write_all(
      report_handle != nullptr ? report_handle : GetStdHandle(STD_ERROR_HANDLE),
      text, length);
}

namespace {

// QueryPerformanceCounter's ticks per second, fixed at boot.
unsigned long long counter_frequency() noexcept {
  static std::atomic<unsigned long long> cached{0};
  unsigned long long frequency = cached.load(std::memory_order_relaxed);
  if (frequency == 0) {
    LARGE_INTEGER value;
    QueryPerformanceFrequency(&value);
    frequency = value.QuadPart > 0
                    ? static_cast<unsigned long long>(value.QuadPart)
                    : 1;
    cached.store(frequency, std::memory_order_relaxed);
  }
  return frequency;
}

// The counter in `unit`s per second, without overflowing the product.
unsigned long long counter_in(unsigned long long unit) noexcept {
  LARGE_INTEGER value;
  QueryPerformanceCounter(&value);
  const auto ticks = static_cast<unsigned long long>(value.QuadPart);
  const unsigned long long frequency = counter_frequency();
  return ticks / frequency * unit + ticks % frequency * unit / frequency;
}

}  // namespace

// Not GetTickCount64: it moves in steps of 10 to 16 ms.
unsigned long long monotonic_ms() noexcept { return counter_in(1000); }

unsigned long long monotonic_ns() noexcept { return counter_in(1000000000); }

void sleep_ms(unsigned long ms) noexcept {
  // Sleep() takes up to 49 days at a time; INFINITE (all ones) is forever.
  while (ms > 0) {
    const DWORD part =
        ms > 0x7FFFFFFFul ? 0x7FFFFFFFul : static_cast<DWORD>(ms);
    Sleep(part);
    ms -= part;
  }
}

void yield() noexcept { SwitchToThread(); }

namespace {

using WaitOnAddressFunction = BOOL(WINAPI*)(volatile VOID*, PVOID, SIZE_T,
                                            DWORD);
using WakeByAddressFunction = VOID(WINAPI*)(PVOID);

// A function of KernelBase (Windows 8 and later), or nullptr. Kept in a
// plain atomic, not a function-local static: its guard could lock a
// winpthreads mutex, whose first lock allocates, from inside malloc.
// Threads that race to look it up find the same address.
template <typename Function>
Function synch_function(std::atomic<void*>& cached, const char* name) noexcept {
  void* found = cached.load(std::memory_order_relaxed);
  if (found == nullptr) {
    HMODULE module = GetModuleHandleA("kernelbase.dll");
    if (module == nullptr) return nullptr;
    found = reinterpret_cast<void*>(GetProcAddress(module, name));
    cached.store(found, std::memory_order_relaxed);
  }
  return reinterpret_cast<Function>(found);
}

std::atomic<void*> wait_on_address{nullptr};
std::atomic<void*> wake_by_address{nullptr};

}  // namespace

void wait_while(const std::atomic<std::uint32_t>& word,
                std::uint32_t value) noexcept {
  const auto wait =
      synch_function<WaitOnAddressFunction>(wait_on_address, "WaitOnAddress");
  if (wait == nullptr) {
    SwitchToThread();
    return;
  }
  auto* address = const_cast<std::atomic<std::uint32_t>*>(&word);
  wait(address, &value, sizeof(value), INFINITE);
}

void wake_one(std::atomic<std::uint32_t>& word) noexcept {
  const auto wake = synch_function<WakeByAddressFunction>(
      wake_by_address, "WakeByAddressSingle");
  if (wake != nullptr) wake(&word);
}

bool random_bytes(void* out, std::size_t length) noexcept {
  // The system's random source, imported from advapi32 (loaded with the
  // program: nothing is loaded or allocated on the first call, which may
  // come from inside malloc). Up to 4 GiB a call.
  auto* bytes = static_cast<unsigned char*>(out);
  while (length > 0) {
    const ULONG part =
        length > 0x7FFFFFFFu ? 0x7FFFFFFFu : static_cast<ULONG>(length);
    if (!RtlGenRandom(bytes, part)) return false;
    bytes += part;
    length -= part;
  }
  return true;
}

long environment(const char* name, char* out, std::size_t size) noexcept {
  // Not getenv: the C runtime may build its copy of the environment with
  // malloc on first use. GetEnvironmentVariableA reads the process's own.
  char empty[1];
  if (size == 0) {
    out = empty;
    size = 1;
  }
  const DWORD room =
      size > 0x7FFFFFFFu ? 0x7FFFFFFFu : static_cast<DWORD>(size);
  SetLastError(ERROR_SUCCESS);
  DWORD length = GetEnvironmentVariableA(name, out, room);
  if (length == 0) {
    out[0] = '\0';
    return GetLastError() == ERROR_ENVVAR_NOT_FOUND ? -1 : 0;
  }
  if (length < room) return static_cast<long>(length);
  // Too long: `length` counts the NUL. Keep what fits, cut to size - 1.
  const long whole = static_cast<long>(length - 1);
  char* value = static_cast<char*>(
      VirtualAlloc(nullptr, length, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
  if (value != nullptr) {
    if (GetEnvironmentVariableA(name, value, length) == length - 1) {
      std::memcpy(out, value, room - 1);
    }
    VirtualFree(value, 0, MEM_RELEASE);
  }
  out[room - 1] = '\0';
  return whole;
}

namespace {

DWORD WINAPI run_thread(LPVOID body) noexcept {
  reinterpret_cast<void (*)()>(body)();
  return 0;
}

using SetDescription = HRESULT(WINAPI*)(HANDLE, PCWSTR);

void name_thread(HANDLE thread, const char* name) noexcept {
  HMODULE kernel = GetModuleHandleA("kernel32.dll");
  if (kernel == nullptr) return;
  const auto set = reinterpret_cast<SetDescription>(
      reinterpret_cast<void*>(GetProcAddress(kernel, "SetThreadDescription")));
  if (set == nullptr) return;
  wchar_t wide[16];
  std::size_t i = 0;
  for (; i + 1 < sizeof(wide) / sizeof(wide[0]) && name[i] != '\0'; ++i) {
    wide[i] = static_cast<wchar_t>(static_cast<unsigned char>(name[i]));
  }
  wide[i] = L'\0';
  set(thread, wide);
}

}  // namespace

// Every processor group's, not only the one the process started in.
unsigned cpu_count() noexcept {
  const DWORD count = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  if (count > 0) return static_cast<unsigned>(count);
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info.dwNumberOfProcessors > 0
             ? static_cast<unsigned>(info.dwNumberOfProcessors)
             : 1;
}

bool start_thread(void (*body)(), const char* name) noexcept {
  HANDLE thread = CreateThread(nullptr, 64 * 1024, run_thread,
                               reinterpret_cast<void*>(body),
                               STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  if (thread == nullptr) return false;
  name_thread(thread, name);
  CloseHandle(thread);  // detached: nobody waits for it
  return true;
}

namespace {

DWORD exit_slot = FLS_OUT_OF_INDEXES;
void (*exit_hook)(void*) = nullptr;

void WINAPI run_exit_hook(void* value) noexcept {
  if (value != nullptr) exit_hook(value);
}

}  // namespace

// A fiber-local slot's callback runs as each thread (fiber) that set a
// value exits, like a pthread key's destructor.
bool set_thread_exit_hook(void (*hook)(void*)) noexcept {
  exit_hook = hook;
  exit_slot = FlsAlloc(run_exit_hook);
  return exit_slot != FLS_OUT_OF_INDEXES;
}

void call_at_thread_exit(void* value) noexcept {
  if (exit_slot != FLS_OUT_OF_INDEXES) FlsSetValue(exit_slot, value);
}

// No fork() on Windows.
bool set_fork_hooks(void (*)(), void (*)(), void (*)()) noexcept {
  return true;
}

// CreateThread takes no lock of the C runtime, and under the loader lock
// the new thread only waits for it before it runs, not the caller: a thread
// can be started from anywhere, inside malloc and free too.
bool thread_start_is_safe_anywhere() noexcept { return true; }

namespace {

// The C runtime DLL this image imports: the module that holds the function
// the import of _errno leads to (one every runtime has, and that rulloc
// never defines, so the import stays the runtime's).
extern "C" void* __imp__errno;

HMODULE runtime_module() noexcept {
  static std::atomic<HMODULE> cached{nullptr};
  HMODULE module = cached.load(std::memory_order_acquire);
  if (module == nullptr &&
      GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                             GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                         static_cast<LPCSTR>(__imp__errno), &module)) {
    cached.store(module, std::memory_order_release);
  }
  return module;
}

}  // namespace

// The C runtime DLL's own definition (GetProcAddress allocates nothing).
void* next_symbol(const char* name) noexcept {
  HMODULE module = runtime_module();
  if (module == nullptr) return nullptr;
  return reinterpret_cast<void*>(GetProcAddress(module, name));
}

void* loaded_library_symbol(const char*, const char*) noexcept {
  return nullptr;
}

void Mutex::lock() noexcept {
  AcquireSRWLockExclusive(reinterpret_cast<SRWLOCK*>(&state_));
}

bool Mutex::try_lock() noexcept {
  return TryAcquireSRWLockExclusive(reinterpret_cast<SRWLOCK*>(&state_)) != 0;
}

void Mutex::unlock() noexcept {
  ReleaseSRWLockExclusive(reinterpret_cast<SRWLOCK*>(&state_));
}

// The live heap's outputs. A C runtime descriptor, through its handle.
void write_to(int descriptor, const char* text, std::size_t length) noexcept {
  const intptr_t handle = _get_osfhandle(descriptor);
  if (handle == -1) return;
  write_all(reinterpret_cast<HANDLE>(handle), text, length);
}

void run_cancellable(void (*work)(void*), void (*)(void*),
                     void* context) noexcept {
  work(context);
}

// Stubs: no /proc/self/statm nor mincore (the working set would need
// psapi), and no POSIX signals to dump the heap on (rulloc_dump() is called
// directly).
bool resident_memory(std::size_t*, std::size_t*) noexcept { return false; }
std::size_t resident_bytes(const void*, std::size_t length) noexcept {
  return length;
}

int create_file(const char* path) noexcept {
  return _open(path, _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY,
               _S_IREAD | _S_IWRITE);
}

void close_file(int descriptor) noexcept { _close(descriptor); }

unsigned long process_id() noexcept { return GetCurrentProcessId(); }

int signal_number(const char*) noexcept { return -1; }
bool on_signal(int, void (*)()) noexcept { return false; }

}  // namespace rulloc::platform
