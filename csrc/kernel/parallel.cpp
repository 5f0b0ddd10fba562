#include "kernel/parallel.hpp"

#include <pthread.h>

#include <cstdlib>

#include "kernel/isa.hpp"

namespace pyimgaug {
namespace {

std::atomic<bool> g_forked_child{false};

void mark_forked_child() { g_forked_child.store(true); }

struct ForkWatcher {
    ForkWatcher() { pthread_atfork(nullptr, nullptr, mark_forked_child); }
};
const ForkWatcher g_fork_watcher;

}  // namespace

bool has_openmp() {
#ifdef PYIMGAUG_HAVE_OPENMP
    return true;
#else
    return false;
#endif
}

bool openmp_usable() { return has_openmp() && !g_forked_child.load(); }

int max_useful_threads() {
    static const int n = [] {
        const unsigned hw = std::thread::hardware_concurrency();
        return hw > 0 ? static_cast<int>(hw) : 1;
    }();
    return n;
}

int default_num_threads() {
    if (g_forked_child.load()) return 1;
#ifdef PYIMGAUG_HAVE_OPENMP
    const int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? static_cast<int>(n) : 1;
#endif
}

bool cpu_has_avx2() {
#if defined(PYIMGAUG_BUILT_AVX2) && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    // PYIMGAUG_DISABLE_AVX2=1 forces the baseline loops, so tests can check both
    // copies against the references on one machine.
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            !(std::getenv("PYIMGAUG_DISABLE_AVX2") && std::getenv("PYIMGAUG_DISABLE_AVX2")[0] == '1');
    return has;
#else
    return false;
#endif
}

}  // namespace pyimgaug
