// measure: run one command and report its wall time, CPU time, peak RSS and
// page faults, as the rulloc benchmark suite needs them.
//
//   measure [--preload LIB] [--stdin F] [--stdout F] [--stderr F]
//           [--result F] [--timeout SEC] [--setenv K=V]... -- CMD ARGS...
//
// --preload sets LD_PRELOAD for the command only (the measuring process is
// never preloaded); without it LD_PRELOAD is removed from the command's
// environment. The result is one line, appended to --result (or written to
// stderr):  wall_s user_s sys_s maxrss_kb minflt majflt status
// where status is the exit code, 128+signal, or 124 on timeout. measure
// exits with the same status.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

pid_t g_child = -1;
volatile sig_atomic_t g_timed_out = 0;

void on_alarm(int) {
  g_timed_out = 1;
  if (g_child > 0) kill(-g_child, SIGKILL);
}

void on_term(int sig) {
  if (g_child > 0) kill(-g_child, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: measure [--preload LIB] [--stdin F] [--stdout F] [--stderr F] [--result F]\n"
               "               [--timeout SEC] [--setenv K=V]... -- CMD ARGS...\n");
  std::exit(2);
}

void redirect(const char* path, int fd, int flags) {
  int f = open(path, flags, 0644);
  if (f < 0) {
    std::fprintf(stderr, "measure: cannot open %s: %s\n", path, std::strerror(errno));
    _exit(127);
  }
  dup2(f, fd);
  close(f);
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

}  // namespace

int main(int argc, char** argv) {
  const char* preload = nullptr;
  const char* in = nullptr;
  const char* out = nullptr;
  const char* err = nullptr;
  const char* result = nullptr;
  double timeout = 0;
  std::vector<std::string> setenvs;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--") {
      ++i;
      break;
    } else if (a == "--preload") {
      preload = value();
    } else if (a == "--stdin") {
      in = value();
    } else if (a == "--stdout") {
      out = value();
    } else if (a == "--stderr") {
      err = value();
    } else if (a == "--result") {
      result = value();
    } else if (a == "--timeout") {
      timeout = std::atof(value());
    } else if (a == "--setenv") {
      setenvs.emplace_back(value());
    } else {
      usage();
    }
  }
  if (i >= argc) usage();

  timespec t0{}, t1{};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  g_child = fork();
  if (g_child < 0) {
    std::perror("measure: fork");
    return 125;
  }
  if (g_child == 0) {
    setpgid(0, 0);  // own process group, so a timeout kills its children too
    if (preload != nullptr && *preload != '\0') {
      setenv("LD_PRELOAD", preload, 1);
    } else {
      unsetenv("LD_PRELOAD");
    }
    for (const std::string& kv : setenvs) putenv(const_cast<char*>(kv.c_str()));
    if (in != nullptr) redirect(in, 0, O_RDONLY);
    if (out != nullptr) redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC);
    if (err != nullptr) redirect(err, 2, O_WRONLY | O_CREAT | O_TRUNC);
    execvp(argv[i], argv + i);
    std::fprintf(stderr, "measure: cannot run %s: %s\n", argv[i], std::strerror(errno));
    _exit(127);
  }
  setpgid(g_child, g_child);
  signal(SIGINT, on_term);
  signal(SIGTERM, on_term);
  if (timeout > 0) {
    signal(SIGALRM, on_alarm);
    itimerval it{};
    it.it_value.tv_sec = static_cast<time_t>(timeout);
    it.it_value.tv_usec = static_cast<suseconds_t>((timeout - static_cast<double>(it.it_value.tv_sec)) * 1e6);
    setitimer(ITIMER_REAL, &it, nullptr);
  }
  int status = 0;
  rusage ru{};
  pid_t r;
  do {
    r = wait4(g_child, &status, 0, &ru);
  } while (r < 0 && errno == EINTR);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (r < 0) {
    std::perror("measure: wait4");
    return 125;
  }
  int code = 0;
  if (g_timed_out) {
    code = 124;
  } else if (WIFEXITED(status)) {
    code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    code = 128 + WTERMSIG(status);
  }
  const double wall = static_cast<double>(t1.tv_sec - t0.tv_sec) + static_cast<double>(t1.tv_nsec - t0.tv_nsec) / 1e9;
  char line[256];
  std::snprintf(line, sizeof line, "%.6f %.6f %.6f %ld %ld %ld %d\n", wall, seconds(ru.ru_utime), seconds(ru.ru_stime),
                ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt, code);
  if (result != nullptr) {
    FILE* f = std::fopen(result, "a");
    if (f == nullptr) {
      std::perror("measure: result file");
      return 125;
    }
    std::fputs(line, f);
    std::fclose(f);
  } else {
    std::fputs(line, stderr);
  }
  return code;
}
