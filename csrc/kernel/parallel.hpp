// The only place that knows how work is spread over threads: OpenMP when it was
// built in and is safe to use, std::thread otherwise (a serial build, or a child
// process forked after OpenMP's thread pool started, where libgomp can hang).
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#ifdef PYIMGAUG_HAVE_OPENMP
#include <omp.h>
#endif

namespace pyimgaug {

bool has_openmp();
// False in a process forked after this module was loaded (libgomp's pool is not
// fork-safe), or after set_openmp_pool(false): such a process uses std::thread.
bool openmp_usable();
// Whether parallel loops may use the OpenMP runtime's thread pool. The Python
// layer turns it off when that runtime is shared with other libraries and nobody
// chose a wait policy: the pool's idle threads would spin after every batch
// (stealing the cores that decoding and the training loop wait for), and the only
// way to stop that, OMP_WAIT_POLICY, would change every other library's threads
// too. Threads started per call exit when the batch is done.
void set_openmp_pool(bool enabled);
bool openmp_pool_enabled();
// Threads used when the caller does not say: OpenMP's default (OMP_NUM_THREADS
// honoured) in the parent, 1 in a forked child (its parent already parallelises).
int default_num_threads();
// The number of CPUs this process may run on (at least 1): the cap on any team.
int max_useful_threads();

// Calls body(i, state) for every i in [0, n) on up to `num_threads` threads.
// Each thread builds one State and reuses it for all its items (scratch buffers).
// `body` must not throw: it records failures itself. Results do not depend on the
// thread count because each item is computed by exactly one thread, start to end.
template <class State, class Body>
void parallel_for_each(std::int64_t n, int num_threads, Body&& body) {
    if (n <= 0) return;
    std::int64_t threads = num_threads < 1 ? 1 : num_threads;
    // More threads than CPUs never helps a CPU-bound loop, and asking an OpenMP
    // runtime for threads the system cannot create ends the process.
    if (threads > max_useful_threads()) threads = max_useful_threads();
    if (threads > n) threads = n;
    if (threads == 1) {
        State state;
        for (std::int64_t i = 0; i < n; ++i) body(i, state);
        return;
    }
#ifdef PYIMGAUG_HAVE_OPENMP
    if (openmp_usable()) {
#pragma omp parallel num_threads(static_cast<int>(threads))
        {
            State state;
#pragma omp for schedule(dynamic, 1)
            for (std::int64_t i = 0; i < n; ++i) body(i, state);
        }
        return;
    }
#endif
    std::atomic<std::int64_t> next{0};
    auto worker = [&]() {
        State state;
        for (;;) {
            const std::int64_t i = next.fetch_add(1);
            if (i >= n) break;
            body(i, state);
        }
    };
    std::vector<std::thread> pool;
    try {
        for (std::int64_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    } catch (...) {
        // Could not start more threads: the ones we have (and this one) finish the work.
    }
    worker();
    for (auto& th : pool) th.join();
}

}  // namespace pyimgaug
