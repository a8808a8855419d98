// Linux implementation of the platform layer: mmap/munmap/mremap/madvise,
// getrandom, clock_gettime, nanosleep, the environment, pthreads (a thread,
// a key's destructor at thread exit, atfork), write, dlsym and dlopen.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "platform/platform.hpp"

namespace rulloc::platform {

std::size_t page_size() noexcept {
  // A benign race: every thread computes the same value.
  static std::atomic<std::size_t> cached{0};
  std::size_t size = cached.load(std::memory_order_relaxed);
  if (size == 0) {
    // The kernel's word (auxv), not sysconf(): its code lies in pages of
    // the C library that a small program would otherwise never touch.
    const unsigned long value = getauxval(AT_PAGESZ);
    size = value > 0 ? static_cast<std::size_t>(value) : 4096;
    cached.store(size, std::memory_order_relaxed);
  }
  return size;
}

void* map(std::size_t length) noexcept {
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return address == MAP_FAILED ? nullptr : address;
}

namespace {

// Under a limit on the address space (RLIMIT_AS) with room for `length`
// but not for the extra `alignment`: `length` alone, kept when the kernel
// happens to align it, else tried at the aligned addresses on either side.
void* map_aligned_tightly(std::size_t length, std::size_t alignment) noexcept {
  auto* mapped = static_cast<char*>(map(length));
  if (mapped == nullptr) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  if (start % alignment == 0) return mapped;
  munmap(mapped, length);
  const std::uintptr_t below = start - start % alignment;
  for (const std::uintptr_t at : {below, below + alignment}) {
    void* placed =
        mmap(reinterpret_cast<void*>(at), length, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (placed == reinterpret_cast<void*>(at)) return placed;
    // Kernels before 4.17 take the flag for a hint and may map elsewhere.
    if (placed != MAP_FAILED) munmap(placed, length);
  }
  return nullptr;
}

}  // namespace

void* map_aligned(std::size_t length, std::size_t alignment) noexcept {
  // mmap promises pages only: map more and unmap the ends.
  auto* mapped = static_cast<char*>(map(length + alignment));
  if (mapped == nullptr) return map_aligned_tightly(length, alignment);
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const std::size_t head = (alignment - start % alignment) % alignment;
  if (head > 0) munmap(mapped, head);
  munmap(mapped + head + length, alignment - head);
  return mapped + head;
}

bool unmap(void* address, std::size_t length) noexcept {
  return munmap(address, length) == 0;
}

bool retire(void* address, std::size_t length) noexcept {
  // MAP_FIXED swaps the pages for the reservation in one step, leaving no
  // moment in which another thread's mmap could take the range.
  void* reserved =
      mmap(address, length, PROT_NONE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return reserved == address;
}

bool reserve(void* address, std::size_t length) noexcept {
  // Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and may map elsewhere.
  void* reserved = mmap(
      address, length, PROT_NONE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (reserved == address) return true;
  if (reserved != MAP_FAILED) munmap(reserved, length);
  return false;
}

void* remap(void* address, std::size_t old_length,
            std::size_t new_length) noexcept {
  // The kernel moves page table entries, not bytes: no copy, no new faults.
  void* moved = mremap(address, old_length, new_length, MREMAP_MAYMOVE);
  return moved == MAP_FAILED ? nullptr : moved;
}

bool maps_split() noexcept { return true; }

bool purge_zeroes() noexcept { return true; }

bool purge(void* address, std::size_t length) noexcept {
  return madvise(address, length, MADV_DONTNEED) == 0;
}

bool make_guard(void* address, std::size_t length) noexcept {
  return mprotect(address, length, PROT_NONE) == 0;
}

namespace {

void write_all(int descriptor, const char* text, std::size_t length) noexcept {
  while (length > 0) {
    ssize_t written = write(descriptor, text, length);
    if (written <= 0) return;
    text += written;
    length -= static_cast<std::size_t>(written);
  }
}

int report_descriptor = STDERR_FILENO;

}  // namespace

void write_error(const char* text, std::size_t length) noexcept {
  write_all(STDERR_FILENO, text, length);
}

void keep_report_output() noexcept {
  // Above the standard descriptors, and not inherited by exec'd programs.
  const int copy = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (copy >= 0) report_descriptor = copy;
}

void write_report(const char* text, std::size_t length) noexcept {
  write_all(report_descriptor, text, length);
}

unsigned long long monotonic_ms() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // the vDSO: no system call
  return static_cast<unsigned long long>(now.tv_sec) * 1000 +
         static_cast<unsigned long long>(now.tv_nsec) / 1000000;
}

unsigned long long monotonic_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<unsigned long long>(now.tv_sec) * 1000000000 +
         static_cast<unsigned long long>(now.tv_nsec);
}

void sleep_ms(unsigned long ms) noexcept {
  timespec pause{static_cast<time_t>(ms / 1000),
                 static_cast<long>(ms % 1000) * 1000000};
  while (nanosleep(&pause, &pause) != 0) {
  }
}

void yield() noexcept { sched_yield(); }

// std::atomic<std::uint32_t> is the word itself (static_assert below).
void wait_while(const std::atomic<std::uint32_t>& word,
                std::uint32_t value) noexcept {
  syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word),
          FUTEX_WAIT_PRIVATE, value, nullptr, nullptr, 0);
}

void wake_one(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word),
          FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

bool random_bytes(void* out, std::size_t length) noexcept {
  const ssize_t got = getrandom(out, length, GRND_NONBLOCK);
  return got >= 0 && static_cast<std::size_t>(got) == length;
}

long environment(const char* name, char* out, std::size_t size) noexcept {
  // Not in a set-uid or set-gid program (AT_SECURE): its environment comes
  // from a less privileged user. glibc's secure_getenv does not allocate.
  const char* value = secure_getenv(name);
  if (value == nullptr) return -1;
  const std::size_t length = std::strlen(value);
  if (size > 0) {
    const std::size_t copied = length < size ? length : size - 1;
    std::memcpy(out, value, copied);
    out[copied] = '\0';
  }
  return static_cast<long>(length);
}

namespace {

// The name of the thread start_thread() starts next, and whether it has
// taken it. A thread names itself (prctl): naming another one writes a
// file under /proc, through code of the C library that a small program
// would otherwise never touch.
std::atomic<const char*> next_thread_name{nullptr};
std::atomic<bool> thread_named{false};

void* run_thread(void* body) noexcept {
  prctl(PR_SET_NAME, next_thread_name.load(std::memory_order_acquire), 0, 0, 0);
  thread_named.store(true, std::memory_order_release);
  reinterpret_cast<void (*)()>(body)();
  return nullptr;  // not pthread_exit: it unwinds, through noexcept
}

}  // namespace

// The affinity mask, not sysconf(_SC_NPROCESSORS_ONLN): glibc may read a
// file for that, and a C library is free to allocate there, while the heap
// asks this as it is built. A mask too small for the machine (more than
// 1024 CPUs) means many.
unsigned cpu_count() noexcept {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return errno == EINVAL ? CPU_SETSIZE : 1;
  }
  const int count = CPU_COUNT(&set);
  return count > 0 ? static_cast<unsigned>(count) : 1;
}

bool start_thread(void (*body)(), const char* name) noexcept {
  // The thread inherits the mask it is created with: all blocked.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attributes, 64 * 1024);
  pthread_t thread;
  thread_named.store(false, std::memory_order_relaxed);
  next_thread_name.store(name, std::memory_order_release);
  const bool started = pthread_create(&thread, &attributes, run_thread,
                                      reinterpret_cast<void*>(body)) == 0;
  // Named when this returns, as pthread_setname_np would have it; the
  // thread only calls prctl first, but a wait is bounded all the same.
  for (int i = 0; started && i < 100000; ++i) {
    if (thread_named.load(std::memory_order_acquire)) break;
    sched_yield();
  }
  pthread_attr_destroy(&attributes);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return started;
}

namespace {

pthread_key_t exit_key;

}  // namespace

// A key with a destructor is how a thread's exit is noticed without
// allocating; the value has to be set once per thread.
bool set_thread_exit_hook(void (*hook)(void*)) noexcept {
  return pthread_key_create(&exit_key, hook) == 0;
}

void call_at_thread_exit(void* value) noexcept {
  pthread_setspecific(exit_key, value);
}

bool set_fork_hooks(void (*before)(), void (*in_parent)(),
                    void (*in_child)()) noexcept {
  return pthread_atfork(before, in_parent, in_child) == 0;
}

// While the process has never had a second thread, as glibc knows it: then
// no other thread can hold a lock of its thread code (the stack cache,
// which a thread that exits holds while it frees). glibc sets it to false
// before it creates the first thread and never back (a forked child of a
// threaded parent may get true again: it has one thread).
bool thread_start_is_safe_anywhere() noexcept { return __libc_single_threaded; }

void* next_symbol(const char* name) noexcept { return dlsym(RTLD_NEXT, name); }

void* loaded_library_symbol(const char* library, const char* name) noexcept {
  // RTLD_NOLOAD: a handle only if it is loaded, in any scope. dlsym on it
  // searches the library, then its dependencies.
  void* handle = dlopen(library, RTLD_NOLOAD | RTLD_LAZY);
  if (handle == nullptr) return nullptr;
  void* symbol = dlsym(handle, name);
  dlclose(handle);  // only the reference RTLD_NOLOAD took
  return symbol;
}

void write_to(int descriptor, const char* text, std::size_t length) noexcept {
  write_all(descriptor, text, length);
}

// Without exceptions, pthread.h's handlers are a setjmp buffer that the
// cancellation's unwinding jumps to as it passes this frame.
void run_cancellable(void (*work)(void*), void (*on_cancel)(void*),
                     void* context) noexcept {
  pthread_cleanup_push(on_cancel, context);
  work(context);
  pthread_cleanup_pop(0);
}

bool resident_memory(std::size_t* resident, std::size_t* file_backed) noexcept {
  // "size resident shared text lib data dt", in pages; open, read and close
  // are async-signal-safe and allocate nothing.
  const int file = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (file < 0) return false;
  char text[128];
  ssize_t length;
  do {
    length = read(file, text, sizeof(text) - 1);
  } while (length < 0 && errno == EINTR);
  close(file);
  if (length <= 0) return false;
  text[length] = '\0';
  unsigned long long fields[3] = {0, 0, 0};
  const char* at = text;
  for (unsigned long long& field : fields) {
    while (*at == ' ') ++at;
    if (*at < '0' || *at > '9') return false;
    while (*at >= '0' && *at <= '9') field = field * 10 + (*at++ - '0');
  }
  *resident = static_cast<std::size_t>(fields[1]) * page_size();
  *file_backed = static_cast<std::size_t>(fields[2]) * page_size();
  return true;
}

std::size_t resident_bytes(const void* address, std::size_t length) noexcept {
  // One byte per page, bit 0 set when resident; a batch on the stack.
  unsigned char pages[512];
  const std::size_t page = page_size();
  auto* at = static_cast<unsigned char*>(const_cast<void*>(address));
  std::size_t resident = 0;
  while (length > 0) {
    const std::size_t count =
        length / page < sizeof(pages) ? length / page : sizeof(pages);
    if (count == 0) break;
    if (mincore(at, count * page, pages) != 0) return resident + length;
    for (std::size_t i = 0; i < count; ++i) resident += (pages[i] & 1) * page;
    at += count * page;
    length -= count * page;
  }
  return resident;
}

int create_file(const char* path) noexcept {
  int descriptor;
  do {
    descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  } while (descriptor < 0 && errno == EINTR);
  return descriptor;
}

void close_file(int descriptor) noexcept { close(descriptor); }

unsigned long process_id() noexcept {
  return static_cast<unsigned long>(getpid());
}

int signal_number(const char* text) noexcept {
  if (text == nullptr || *text == '\0') return -1;
  int number = -1;
  if (*text >= '0' && *text <= '9') {
    number = 0;
    for (; *text >= '0' && *text <= '9'; ++text) {
      number = number * 10 + (*text - '0');
      if (number >= NSIG) return -1;
    }
    if (*text != '\0') return -1;
  } else {
    if (std::strncmp(text, "SIG", 3) == 0) text += 3;
    struct Name {
      const char* name;
      int number;
    };
    static constexpr Name kNames[] = {
        {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},
        {"USR1", SIGUSR1},   {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},
        {"ALRM", SIGALRM},   {"TERM", SIGTERM},     {"CHLD", SIGCHLD},
        {"CONT", SIGCONT},   {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},
        {"TTOU", SIGTTOU},   {"URG", SIGURG},       {"XCPU", SIGXCPU},
        {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
        {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"PWR", SIGPWR},
        {"SYS", SIGSYS}};
    for (const Name& name : kNames) {
      if (std::strcmp(text, name.name) == 0) number = name.number;
    }
  }
  if (number <= 0 || number == SIGKILL || number == SIGSTOP) return -1;
  return number;
}

namespace {

std::atomic<void (*)()> signal_handlers[NSIG];

void run_signal_handler(int number) noexcept {
  const int saved = errno;  // the interrupted code may be reading it
  if (number > 0 && number < NSIG) {
    if (void (*handler)() = signal_handlers[number].load()) handler();
  }
  errno = saved;
}

}  // namespace

bool on_signal(int number, void (*handler)()) noexcept {
  if (number <= 0 || number >= NSIG || handler == nullptr) return false;
  signal_handlers[number].store(handler);
  struct sigaction action {};
  action.sa_handler = run_signal_handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  return sigaction(number, &action, nullptr) == 0;
}

}  // namespace rulloc::platform
