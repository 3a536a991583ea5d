/* fuzz_chunked.c: libFuzzer harness of the chunked request body decoder
 * (agent/http.c). The first byte seeds how the input is cut into reads; the
 * decoded body and the verdict must not depend on the cuts (the client loop
 * feeds whatever recv returned), and in-place decoding must equal decoding
 * into a separate buffer. */
#include <string.h>

#include "fuzz.h"
#include "http.h"

/* Decodes in (len bytes) in reads of sizes drawn from seed; the decoded bytes
 * go to out. Returns the bytes consumed, or -1. */
static ssize_t decode_cut(const char *in, size_t len, uint8_t seed, char *out, size_t *out_len,
			  bool *done)
{
	struct xjk_chunked c;
	size_t pos = 0, total = 0;
	unsigned step = seed ? seed : 1;

	xjk_chunked_init(&c);
	while (pos < len && !c.done) {
		size_t want = 1 + step % 23, n;

		step = step * 33 + 7;
		if (want > len - pos)
			want = len - pos;
		/* every read in its own allocation: ASan catches reads past it */
		char *piece = xjk_fuzz_strdup((const uint8_t *)in + pos, want);
		ssize_t used = xjk_chunked_decode(&c, piece, want, out + total, &n);

		free(piece);
		if (used < 0)
			return -1;
		FUZZ_ASSERT((size_t)used <= want && n <= (size_t)used);
		/* it only stops short of a read once the body has ended */
		FUZZ_ASSERT((size_t)used == want || c.done);
		pos += (size_t)used;
		total += n;
	}
	*out_len = total;
	*done = c.done;
	return (ssize_t)pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = size - 1, whole_n = 0, cut_n = 0, inplace_n = 0;
	char *in = xjk_fuzz_strdup(data + 1, len);
	char *whole = malloc(len + 1), *cut = malloc(len + 1);
	bool cut_done = false;
	struct xjk_chunked c;

	/* one read of everything */
	xjk_chunked_init(&c);
	ssize_t one = xjk_chunked_decode(&c, in, len, whole, &whole_n);
	ssize_t b = decode_cut(in, len, data[0], cut, &cut_n, &cut_done);

	FUZZ_ASSERT((one < 0) == (b < 0));
	if (one >= 0) {
		FUZZ_ASSERT(one == b && c.done == cut_done);
		FUZZ_ASSERT(whole_n == cut_n && !memcmp(whole, cut, whole_n));
		/* in place: out == in */
		xjk_chunked_init(&c);
		FUZZ_ASSERT(xjk_chunked_decode(&c, in, len, in, &inplace_n) == one);
		FUZZ_ASSERT(inplace_n == whole_n && !memcmp(in, whole, whole_n));
	}
	free(in);
	free(whole);
	free(cut);
	return 0;
}
