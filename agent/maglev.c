/* maglev.c: weighted Maglev table builder. Weights use proportional turns
 * (each round a backend banks its weight and claims a slot per max-weight
 * banked), so shares follow weight/sum(weights) even for small weights. */
#include "maglev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Cilium's list plus 65537 (the paper's and Katran's default). */
static const uint32_t primes[] = {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65537};

/* Fixed seeds: part of the cross-node contract, never randomise them. */
#define SEED_OFFSET 0x6d61676c65763031ULL
#define SEED_SKIP   0x786a6b736b697031ULL

struct perm {
	int index; /* into the caller's backends[] */
	uint32_t weight;
	uint64_t offset;
	uint64_t skip;
	uint64_t next; /* how far along its permutation the backend is */
	uint64_t banked;
};

bool xjk_maglev_size_ok(uint32_t m)
{
	for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		if (primes[i] == m)
			return true;
	return false;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* splitmix64's finaliser: decorrelates offset and skip drawn from one hash. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static int cmp_key(const void *a, const void *b, void *backends)
{
	const struct xjk_maglev_backend *be = backends;
	const struct perm *pa = a, *pb = b;
	return strcmp(be[pa->index].key, be[pb->index].key);
}

/* Weighted backends sorted by key, so the input order cannot matter. */
static int prepare(const struct xjk_maglev_backend *b, int n, uint32_t m, struct perm *p, int *np)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!b[i].key)
			return -EINVAL;
		if (b[i].weight == 0)
			continue;
		uint64_t h = fnv1a(b[i].key);
		p[k++] = (struct perm){
			.index = i,
			.weight = b[i].weight,
			.offset = mix(h ^ SEED_OFFSET) % m,
			.skip = mix(h ^ SEED_SKIP) % (m - 1) + 1,
		};
	}
	qsort_r(p, k, sizeof(*p), cmp_key, (void *)b);
	for (int i = 1; i < k; i++)
		if (cmp_key(&p[i - 1], &p[i], (void *)b) == 0)
			return -EINVAL;
	*np = k;
	return 0;
}

static void fill(struct perm *p, int k, uint32_t m, uint32_t *table)
{
	uint32_t max_w = 0;
	uint32_t filled = 0;

	for (int i = 0; i < k; i++)
		if (p[i].weight > max_w)
			max_w = p[i].weight;
	while (filled < m) {
		for (int i = 0; i < k && filled < m; i++) {
			p[i].banked += p[i].weight;
			if (p[i].banked < max_w)
				continue;
			p[i].banked -= max_w;
			uint64_t c;
			do {
				c = (p[i].offset + p[i].next * p[i].skip) % m;
				p[i].next++;
			} while (table[c] != XJK_MAGLEV_EMPTY);
			table[c] = (uint32_t)p[i].index;
			filled++;
		}
	}
}

int xjk_maglev_build(const struct xjk_maglev_backend *backends, int n, uint32_t m, uint32_t *table)
{
	if (!xjk_maglev_size_ok(m) || n < 0)
		return -EINVAL;
	for (uint32_t i = 0; i < m; i++)
		table[i] = XJK_MAGLEV_EMPTY;
	if (n == 0)
		return 0;

	struct perm *p = calloc((size_t)n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int k;
	int rc = prepare(backends, n, m, p, &k);
	if (rc == 0 && k > 0)
		fill(p, k, m, table);
	free(p);
	return rc;
}
