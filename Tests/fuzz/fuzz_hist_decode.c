/* libFuzzer target over alphacore_hist_decode, through the C ABI.
 *
 * The first input byte picks how the rest is used:
 *   even: the rest is the base64 text itself (lying base64, padding, whitespace, cookies);
 *   odd:  the rest is the *decompressed payload*: this harness deflates it and wraps it in the
 *         envelope of its version (V2, or V1/V0 when the payload's cookie says so), so the fuzzer
 *         reaches the payload header, the varint and the V0/V1 word decoders (lying lengths, huge configurations, zero runs, overflowing counts)
 *         instead of being stopped by zlib's checksum.
 * Whatever decodes must satisfy the invariants below; whatever fails must return a negative
 * errno and leave *out NULL. Tests/c/test_hist_fuzz_corpus.c includes this file to replay
 * the kept corpus (Tests/fuzz/corpus) in `make test`. */
#include <alphacore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64(const unsigned char *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64chars[v >> 18]; out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63]; out[o++] = b64chars[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64chars[v >> 18]; out[o++] = b64chars[(v >> 12) & 63]; out[o++] = '='; out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64chars[v >> 18]; out[o++] = b64chars[(v >> 12) & 63]; out[o++] = b64chars[(v >> 6) & 63]; out[o++] = '=';
    }
    return o;
}

static void check(int cond, const char *what) {
    if (!cond) { fprintf(stderr, "invariant failed: %s\n", what); abort(); }
}

static void exercise(const char *text, size_t len) {
    alphacore_hist *h = (alphacore_hist *)(uintptr_t)0x1;   /* failure must set it to NULL */
    int rc = alphacore_hist_decode(text, len, &h);
    if (rc != 0) {
        check(rc < 0, "failure is a negative errno");
        check(h == NULL, "no histogram on failure");
        return;
    }
    check(h != NULL, "a histogram on success");
    int64_t total = alphacore_hist_total_count(h);
    check(total >= 0, "total count is not negative");
    int64_t mn = alphacore_hist_min(h), mx = alphacore_hist_max(h);
    check(mn >= 0 && mx >= mn, "0 <= min <= max");
    double ps[4] = {0.0, 50.0, 99.9, 100.0};
    int64_t vs[4];
    check(alphacore_hist_value_at_percentiles(h, ps, vs, 4) == 0, "percentiles");
    check(vs[0] <= vs[1] && vs[1] <= vs[2] && vs[2] <= vs[3], "percentiles are ordered");
    if (total > 0) check(vs[3] == mx, "p100 is the max");
    double m = 0, s = 0;
    check(alphacore_hist_mean_stddev(h, &m, &s) == 0, "mean/stddev");
    check(s >= 0 || s != s, "stddev not negative");
    /* re-encoding decodes to the same encoding (a fixed point after one round) */
    int64_t n = alphacore_hist_encode(h, NULL, 0);
    check(n > 0, "encodes");
    char *e = malloc((size_t)n + 1);
    check(alphacore_hist_encode(h, e, (size_t)n + 1) == n, "encode length");
    alphacore_hist *back = NULL;
    check(alphacore_hist_decode(e, (size_t)n, &back) == 0, "own encoding decodes");
    check(alphacore_hist_total_count(back) == total, "round trip keeps the total");
    char *e2 = malloc((size_t)n + 1);
    check(alphacore_hist_encode(back, e2, (size_t)n + 1) == n && memcmp(e, e2, (size_t)n) == 0, "stable encoding");
    int64_t fmt = alphacore_hist_format_percentiles(h, 5, 1.0, NULL, 0);
    check(fmt > 0, "format");
    free(e); free(e2);
    alphacore_hist_destroy(back);
    alphacore_hist_destroy(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if ((data[0] & 1) == 0) {
        exercise((const char *)data + 1, size - 1);
        return 0;
    }
    /* Wrap the rest as a V2 payload. */
    uLongf bound = compressBound((uLong)(size - 1));
    unsigned char *packed = malloc(8 + bound);
    if (compress2(packed + 8, &bound, data + 1, (uLong)(size - 1), Z_DEFAULT_COMPRESSION) != Z_OK) { free(packed); return 0; }
    /* The envelope of the payload's own version (V0 0x1c849308 -> 0x1c849309, V1 0x1c849301 ->
     * 0x1c849302, else V2), so that the V0/V1 word decoders are reached too. */
    uint32_t pc = size >= 5 ? (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4] : 0;
    uint32_t cookie = (pc & ~0xf0u) == 0x1c849308u ? 0x1c849309u | (pc & 0xf0u)
                    : (pc & ~0xf0u) == 0x1c849301u ? 0x1c849302u | (pc & 0xf0u) : 0x1c849314u;
    uint32_t len = (uint32_t)bound;
    for (int k = 0; k < 4; k++) { packed[k] = (unsigned char)(cookie >> (24 - 8 * k)); packed[4 + k] = (unsigned char)(len >> (24 - 8 * k)); }
    char *text = malloc(((8 + bound) / 3 + 2) * 4 + 1);
    size_t tl = b64(packed, 8 + bound, text);
    exercise(text, tl);
    free(text);
    free(packed);
    return 0;
}
