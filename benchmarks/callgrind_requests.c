/* Callgrind client requests for benchmarks/instructions.py, which loads this file's
 * shared library with ctypes. Each function is one documented macro of valgrind's
 * <valgrind/callgrind.h> (Debian package valgrind); outside valgrind they do nothing. */
#include <valgrind/callgrind.h>

void ws_start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }

void ws_stop_instrumentation(void) { CALLGRIND_STOP_INSTRUMENTATION; }

/* Write the instructions counted since the previous dump as one part of the output
 * file, and start counting from zero. */
void ws_dump_stats(void) { CALLGRIND_DUMP_STATS; }

int ws_running_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
