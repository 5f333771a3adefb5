// Runs a command in a process where the kernel refuses io_uring, as Docker's default seccomp
// profile (and sysctl kernel.io_uring_disabled=2) does: io_uring_setup, io_uring_enter and
// io_uring_register fail with EPERM. CTest runs the file:// batch and loader tests under it, so
// that the one-file-at-a-time fallback is tested on machines where io_uring works.
//   omnio_no_io_uring COMMAND [ARGS...]
// Exit 77 (CTest: skipped) where the filter cannot be installed; else the command's status.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace {

#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#else
#error "no_io_uring: add this architecture's AUDIT_ARCH"
#endif

constexpr int kSkip = 77;

bool install_filter() {
  const auto nr = static_cast<unsigned>(offsetof(seccomp_data, nr));
  const auto arch = static_cast<unsigned>(offsetof(seccomp_data, arch));
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arch),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),  // another ABI: not ours to judge
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, nr),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    std::fprintf(stderr, "no_io_uring: prctl(PR_SET_NO_NEW_PRIVS): %s\n", std::strerror(errno));
    return false;
  }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    std::fprintf(stderr, "no_io_uring: prctl(PR_SET_SECCOMP): %s\n", std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  if (!install_filter()) {
    std::fprintf(stderr, "no_io_uring: cannot install the seccomp filter; skipped\n");
    return kSkip;
  }
  // The filter must be what refuses io_uring now: a command run with it working would pass
  // without testing the fallback.
  unsigned char params[120] = {};  // struct io_uring_params; the call must fail before reading it
  errno = 0;
  if (syscall(__NR_io_uring_setup, 1, params) != -1 || errno != EPERM) {
    std::fprintf(stderr, "no_io_uring: io_uring_setup was not refused with EPERM (%s)\n",
                 std::strerror(errno));
    return 1;
  }
  execvp(argv[1], argv + 1);
  std::fprintf(stderr, "no_io_uring: exec %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
