// Declarations of the per-ISA resize loops (defined in resize_impl.hpp).
#pragma once
#include <cstdint>

#define PYIMGAUG_DECLARE_RESIZE_ENTRIES(ns)                                                                        \
    namespace pyimgaug {                                                                                           \
    namespace ns {                                                                                                 \
    void horizontal_u8_dispatch(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, int, int,          \
                                const int*, std::int64_t, const std::int32_t*, int, const std::int16_t*, int,  \
                                const int*, std::uint8_t*, std::uint8_t*, std::uint8_t*);                                                       \
    void vertical_u8_entry(const unsigned char*, std::int64_t, std::int64_t, const int*, const int*,               \
                           const std::int32_t*, int, std::int64_t, std::int64_t, bool, std::int32_t*,         \
                           std::uint8_t*);                                                                     \
    void horizontal_u16_entry(const unsigned char*, std::int64_t, std::int64_t, int, const int*, const int*,       \
                              const double*, int, std::int64_t, bool, std::uint16_t*);                             \
    void horizontal_f32_entry(const unsigned char*, std::int64_t, std::int64_t, int, const int*, const int*,       \
                              const double*, int, std::int64_t, float*);                                           \
    void vertical_u16_entry(const unsigned char*, std::int64_t, std::int64_t, const int*, const int*,              \
                            const double*, int, std::int64_t, std::int64_t, double*, bool, std::uint16_t*);        \
    void vertical_f32_entry(const unsigned char*, std::int64_t, std::int64_t, const int*, const int*,              \
                            const double*, int, std::int64_t, std::int64_t, double*, float*);                      \
    }                                                                                                              \
    }

PYIMGAUG_DECLARE_RESIZE_ENTRIES(baseline)
PYIMGAUG_DECLARE_RESIZE_ENTRIES(avx2)
PYIMGAUG_DECLARE_RESIZE_ENTRIES(avx512)

// Only in the AVX-512 VNNI copy: the loops on three-byte weight digits.
namespace pyimgaug {
namespace avx512 {
void horizontal_u8_digits_entry(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, int, int,
                                const int*, std::int64_t, const std::int8_t*, int, const int*, std::uint8_t*,
                                std::uint8_t*, bool, bool, std::uint8_t*);
void interleave_row_blocks_entry(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, std::uint8_t*);
void vertical_u8_blocks_entry(const std::uint8_t*, std::int64_t, const int*, const int*, const std::int32_t*, int,
                              const int*, const int*, const std::int32_t*, int, std::int64_t, std::int64_t, bool,
                              std::uint8_t*);
}  // namespace avx512
}  // namespace pyimgaug
