/*
 * tval: the typed value format (tval.h): the header, and the payload reader and writer.
 */
#include "tval.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "xalloc.h"

static const unsigned char MAGIC[4] = {0xF1, 'N', 'K', 'T'};

#define FLAG_EXPIRY 0x01u

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

bool tval_looks_typed(const void *value, size_t len)
{
    return len >= sizeof(MAGIC) && memcmp(value, MAGIC, sizeof(MAGIC)) == 0;
}

void tval_header(unsigned char hdr[TVAL_HEADER_LEN], tval_type type, int64_t expire_at)
{
    memcpy(hdr, MAGIC, sizeof(MAGIC));
    hdr[4] = TVAL_VERSION;
    hdr[5] = (unsigned char)type;
    hdr[6] = expire_at != 0 ? FLAG_EXPIRY : 0;
    hdr[7] = 0;
    put_le64(hdr + 8, (uint64_t)expire_at);
    put_le64(hdr + 16, (uint64_t)XXH3_64bits(hdr, 16));
}

bool tval_decode(const void *value, size_t len, tval *v)
{
    const unsigned char *h = value;
    uint64_t when;

    v->type = TVAL_STRING;
    v->expire_at = 0;
    v->payload = value;
    v->len = len;
    if (len < TVAL_HEADER_LEN || !tval_looks_typed(value, len))
        return false;
    if (h[4] != TVAL_VERSION || h[5] >= TVAL_TYPES || (h[6] & ~FLAG_EXPIRY) != 0 || h[7] != 0)
        return false;
    if (get_le64(h + 16) != (uint64_t)XXH3_64bits(h, 16))
        return false;
    when = get_le64(h + 8);
    if ((h[6] & FLAG_EXPIRY) ? (int64_t)when <= 0 : when != 0)
        return false;
    v->type = (tval_type)h[5];
    v->expire_at = (int64_t)when;
    v->payload = (const char *)h + TVAL_HEADER_LEN;
    v->len = len - TVAL_HEADER_LEN;
    return true;
}

const char *tval_type_name(tval_type t)
{
    static const char *const names[TVAL_TYPES] = {"string", "hash", "set", "zset", "list"};

    return (unsigned)t < TVAL_TYPES ? names[t] : "none";
}

/* ---- the payload reader --------------------------------------------------------------- */

void tval_reader_init(tval_reader *r, const void *payload, size_t len)
{
    r->p = payload;
    r->end = r->p + len;
}

bool tval_read_u32(tval_reader *r, uint32_t *v)
{
    if (r->end - r->p < 4)
        return false;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    return true;
}

bool tval_read_str(tval_reader *r, const char **ptr, size_t *len)
{
    uint32_t n;

    if (!tval_read_u32(r, &n) || (size_t)(r->end - r->p) < n)
        return false;
    *ptr = (const char *)r->p;
    *len = n;
    r->p += n;
    return true;
}

bool tval_read_double(tval_reader *r, double *v)
{
    uint64_t bits;

    if (r->end - r->p < 8)
        return false;
    bits = get_le64(r->p);
    memcpy(v, &bits, sizeof(*v));
    r->p += 8;
    return true;
}

bool tval_reader_done(const tval_reader *r)
{
    return r->p == r->end;
}

/* ---- the payload writer --------------------------------------------------------------- */

void tval_writer_init(tval_writer *w, size_t hint)
{
    w->cap = hint + 1;
    w->buf = xmalloc(w->cap);
    w->len = 0;
}

static unsigned char *grow(tval_writer *w, size_t n)
{
    unsigned char *p;

    if (w->len + n + 1 > w->cap) {
        while (w->len + n + 1 > w->cap)
            w->cap *= 2;
        w->buf = xrealloc(w->buf, w->cap);
    }
    p = (unsigned char *)w->buf + w->len;
    w->len += n;
    return p;
}

void tval_write_u32(tval_writer *w, uint32_t v)
{
    unsigned char *p = grow(w, 4);

    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void tval_write_str(tval_writer *w, const void *s, size_t len)
{
    tval_write_u32(w, (uint32_t)len);
    if (len > 0)
        memcpy(grow(w, len), s, len);
}

void tval_write_double(tval_writer *w, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    put_le64(grow(w, 8), bits);
}

char *tval_writer_take(tval_writer *w, size_t *len)
{
    char *buf = w->buf;

    buf[w->len] = '\0';
    *len = w->len;
    w->buf = NULL;
    w->len = w->cap = 0;
    return buf;
}

void tval_writer_free(tval_writer *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}
