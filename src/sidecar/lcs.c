/*
 * lcs: Redis' dynamic programming LCS, its walk back through the table and its replies
 * (lcs.h). Owns the job's table, never the strings. The cells are 16 bits: within
 * LCS_MAX_CELLS the shorter string has fewer than 4096 bytes, so no length needs more.
 */
#include "lcs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "parse.h"
#include "xalloc.h"

_Static_assert(LCS_MAX_CELLS < 65536ull * 65536ull, "16-bit cells hold every length");

struct lcs_job {
    const unsigned char *a, *b;
    size_t alen, blen;
    uint16_t *t; /* (alen+1) rows of (blen+1): t[i*(blen+1)+j] = LCS of a[0..i), b[0..j) */
    size_t bytes;
    size_t row; /* the next row to fill */
};

bool lcs_parse_opts(const resp_arg *argv, int argc, lcs_opts *o, struct evbuffer *out)
{
    memset(o, 0, sizeof(*o));
    for (int i = 3; i < argc; i++) {
        const char *w = argv[i].ptr;

        if (strcasecmp(w, "IDX") == 0) {
            o->idx = true;
        } else if (strcasecmp(w, "LEN") == 0) {
            o->len = true;
        } else if (strcasecmp(w, "WITHMATCHLEN") == 0) {
            o->withmatchlen = true;
        } else if (strcasecmp(w, "MINMATCHLEN") == 0 && i + 1 < argc) {
            i++;
            if (!parse_redis_ll(argv[i].ptr, argv[i].len, &o->minmatchlen)) {
                resp_add_error(out, "ERR value is not an integer or out of range");
                return false;
            }
            if (o->minmatchlen < 0)
                o->minmatchlen = 0;
        } else {
            resp_add_error(out, "ERR syntax error");
            return false;
        }
    }
    if (o->len && o->idx) {
        resp_add_error(out, "ERR If you want both the length and indexes, please just use IDX.");
        return false;
    }
    return true;
}

uint64_t lcs_cells(size_t alen, size_t blen)
{
    return ((uint64_t)alen + 1) * ((uint64_t)blen + 1);
}

lcs_job *lcs_new(const char *a, size_t alen, const char *b, size_t blen)
{
    uint64_t cells = lcs_cells(alen, blen);
    lcs_job *j;
    void *t;

    if (cells > LCS_MAX_CELLS)
        return NULL;
    t = mmap(NULL, (size_t)cells * sizeof(uint16_t), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return NULL;
    j = xcalloc(1, sizeof(*j));
    j->a = (const unsigned char *)a;
    j->b = (const unsigned char *)b;
    j->alen = alen;
    j->blen = blen;
    j->t = t; /* row 0 and column 0 are zero, as mapped */
    j->bytes = (size_t)cells * sizeof(uint16_t);
    j->row = 1;
    return j;
}

void lcs_free(lcs_job *j)
{
    if (j == NULL)
        return;
    munmap(j->t, j->bytes);
    free(j);
}

bool lcs_fill(lcs_job *j, uint64_t cells)
{
    size_t w = j->blen + 1;
    uint64_t rows = cells / w > 0 ? cells / w : 1;

    for (; rows > 0 && j->row <= j->alen; rows--, j->row++) {
        const uint16_t *up = j->t + (j->row - 1) * w;
        uint16_t *cur = j->t + j->row * w;
        const unsigned char *b = j->b, ch = j->a[j->row - 1];
        unsigned left = 0, diag = up[0];

        /* the neighbours in locals and no branch on the bytes (compiled to conditional
         * moves): several times faster on bytes that match at random */
        for (size_t k = 1; k <= j->blen; k++) {
            unsigned above = up[k], best = above > left ? above : left;
            left = b[k - 1] == ch ? diag + 1 : best;
            cur[k] = (uint16_t)left;
            diag = above;
        }
    }
    return j->row > j->alen;
}

static uint16_t at(const lcs_job *j, size_t i, size_t k)
{
    return j->t[i * (j->blen + 1) + k];
}

/* One IDX match: [[a_start, a_end], [b_start, b_end]] and, WITHMATCHLEN, its length. */
static void add_match(struct evbuffer *b, size_t as, size_t ae, size_t bs, size_t be, bool withlen)
{
    resp_add_array(b, withlen ? 3 : 2);
    resp_add_array(b, 2);
    resp_add_int(b, (long long)as);
    resp_add_int(b, (long long)ae);
    resp_add_array(b, 2);
    resp_add_int(b, (long long)bs);
    resp_add_int(b, (long long)be);
    if (withlen)
        resp_add_int(b, (long long)(ae - as + 1));
}

/*
 * Redis' walk from the table's end: a common byte goes into the string and extends the
 * current match backwards; otherwise it steps towards the longer of the two neighbours
 * (up on a strict win, else left) and the current match, if any, is emitted. A match
 * touching either string's start is emitted at once. So the matches come last first,
 * exactly as Redis lists them.
 */
void lcs_reply(const lcs_job *j, const lcs_opts *o, int proto, struct evbuffer *out)
{
    size_t len = at(j, j->alen, j->blen), n = len, i = j->alen, k = j->blen, count = 0;
    bool in_match = false;
    size_t as = 0, ae = 0, bs = 0, be = 0;
    char *s;
    struct evbuffer *matches;

    if (o->len && !o->idx) {
        resp_add_int(out, (long long)len);
        return;
    }
    s = xmalloc(len + 1);
    matches = evbuffer_new();
    while (i > 0 && k > 0) {
        bool emit = false;

        if (j->a[i - 1] == j->b[k - 1]) {
            s[--n] = (char)j->a[i - 1];
            if (!in_match) {
                in_match = true;
                as = ae = i - 1;
                bs = be = k - 1;
            } else if (as == i && bs == k) {
                as--;
                bs--;
            } else {
                emit = true;
            }
            if (as == 0 || bs == 0)
                emit = true;
            i--;
            k--;
        } else {
            if (at(j, i - 1, k) > at(j, i, k - 1))
                i--;
            else
                k--;
            emit = in_match;
        }
        if (emit) {
            if (o->idx && (o->minmatchlen == 0 || (long long)(ae - as + 1) >= o->minmatchlen)) {
                add_match(matches, as, ae, bs, be, o->withmatchlen);
                count++;
            }
            in_match = false;
        }
    }
    if (o->idx) {
        resp_add_map(out, proto, 2);
        resp_add_bulk_str(out, "matches");
        resp_add_array(out, (long)count);
        evbuffer_add_buffer(out, matches);
        resp_add_bulk_str(out, "len");
        resp_add_int(out, (long long)len);
    } else {
        resp_add_bulk(out, s, len);
    }
    evbuffer_free(matches);
    free(s);
}
