// The batch driver: runs stages 1-3 for every image of a batch, in parallel.
#pragma once
#include <vector>

#include "kernel/types.hpp"

namespace pyimgaug {

// Runs the whole batch; never throws. Returns one Status per image.
std::vector<Status> run_batch(const BatchSpec& spec);

}  // namespace pyimgaug
