# cython: language_level=3
# A cheap 64-bit hash of a few dozen bytes, for the compiled readers' own tables of what
# they have seen (MEXC's push heads, symbols). Not SipHash: those tables hold only what
# came in before, and a match is decided by comparing the bytes themselves.

from libc.stdint cimport uint64_t


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* Eight bytes at a time, multiplied and folded; the tail zero-padded. */
    static inline uint64_t ws_stack_short_hash(const unsigned char *data, Py_ssize_t size) {
        uint64_t value = 0x9E3779B97F4A7C15ULL ^ (uint64_t)size, word;
        for (; size >= 8; data += 8, size -= 8) {
            memcpy(&word, data, 8);
            value = (value ^ word) * 0xFF51AFD7ED558CCDULL;
            value ^= value >> 32;
        }
        word = 0;
        memcpy(&word, data, (size_t)size);
        value = (value ^ word) * 0xC4CEB9FE1A85EC53ULL;
        return value ^ (value >> 29);
    }
    """
    uint64_t short_hash "ws_stack_short_hash" (const unsigned char* data, Py_ssize_t size) noexcept
