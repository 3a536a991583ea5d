/* heaptrim.h: gives freed heap memory back to the kernel once a surge of
 * connections has passed. glibc keeps freed memory for reuse, so without it
 * the resident set stays at a surge's peak (some 30 kB a client connection,
 * as much again an upstream one) although nothing leaks.
 *
 * The counts are the calling thread's: each event loop frees what it
 * allocated. Each time three quarters of the connections open at the peak
 * since the last trim have gone, malloc_trim() returns the free pages; so a
 * surge costs a few trims, and what stays unreturned is at most a quarter of
 * XJK_HEAPTRIM_MIN connections' worth. */
#ifndef XJK_HEAPTRIM_H
#define XJK_HEAPTRIM_H

#include <stdbool.h>

/* Below this many connections since the last trim one is not worth it. */
#define XJK_HEAPTRIM_MIN 32

/* A connection's memory was allocated. */
void xjk_heaptrim_open(void);
/* A connection's memory was freed; true when this call trimmed the heap. */
bool xjk_heaptrim_close(void);

#endif
