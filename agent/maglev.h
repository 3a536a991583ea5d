/* maglev.h: weighted Maglev lookup tables (Eisenbud et al., NSDI'16), built
 * deterministically so every node given the same backends writes the same
 * table. Pure computation: no I/O, no global state. */
#ifndef XJK_MAGLEV_H
#define XJK_MAGLEV_H

#include <stdbool.h>
#include <stdint.h>

#define XJK_MAGLEV_EMPTY UINT32_MAX /* slot of a table with no weighted backend */
/* The paper's default and the largest supported size. Smaller rings move more
 * surviving flows when a backend leaves (docs/scaling.md has the numbers). */
#define XJK_MAGLEV_DEFAULT_M 65537

struct xjk_maglev_backend {
	const char *key; /* stable identity, e.g. "10.0.0.11"; unique within a table */
	uint32_t weight; /* 0 keeps the backend out of the table */
};

/* Fills table[0..m-1] with indices into backends[]. The result depends only on
 * the set of (key, weight) pairs, not on their order in backends[]. M must be
 * one of the supported primes (xjk_maglev_size_ok). Returns 0, -EINVAL (bad M,
 * duplicate or missing key) or -ENOMEM. With every weight 0 all slots are
 * XJK_MAGLEV_EMPTY. */
int xjk_maglev_build(const struct xjk_maglev_backend *backends, int n, uint32_t m, uint32_t *table);

/* True when M is one of the supported prime table sizes. */
bool xjk_maglev_size_ok(uint32_t m);

#endif
