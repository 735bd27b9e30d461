// POSIX shared memory segments, the one mechanism under both backends' memory shared between the
// processes of a node (cpu_shared_memory.cpp; cuda_shared_memory.cpp registers the mapping with CUDA).
#pragma once
#include <cstddef>
#include <string>

namespace dpb {

// Maps segment `name` with `size` (> 0) bytes read-write. `create`: a new segment (an existing name
// is an error), sized here and removed again if mapping fails; else an existing one that must hold
// at least `size` bytes. The file descriptor is closed before returning; munmap(p, size) undoes it.
// Throws std::runtime_error naming the call and the errno text.
void* map_shm_segment(const std::string& name, std::size_t size, bool create);

// Removes the name (mappings stay valid); a name already gone is fine.
void unlink_shm_segment(const std::string& name);

}  // namespace dpb
