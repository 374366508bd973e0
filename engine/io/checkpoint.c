/* The `.thaw` checkpoint format: writer, checked reader (layout in
 * io/CHECKPOINT.md). Everything is encoded byte by byte in little-endian
 * order; no struct is written as is. */
#include "io/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "model/model-private.h"

enum {
    HEADER_SIZE = 64,
    ENTRY_SIZE = 168, /* one directory entry */
    NAME_FIELD = 128, /* name bytes in an entry, NUL-padded */
    DATA_ALIGN = 64,  /* tensor data offsets are multiples of this */
    CONFIG_MAX = 65536,
    TENSORS_MAX = 1 << 20,
    CHUNK = 4096, /* values converted per read or write */
    DTYPE_F32 = 1,
    DTYPE_U32 = 2,
};

/* Tensor groups: the parameters and the three kinds of optimizer state, whose
 * names are "<prefix><parameter name>". */
typedef enum group { G_PARAM, G_OPT_M, G_OPT_V, G_OPT_STEPS, G_COUNT } group;
static const char *const group_prefix[G_COUNT] = {"", "opt_m/", "opt_v/", "opt_steps/"};

/* A directory entry, decoded. */
typedef struct entry {
    char name[NAME_FIELD];
    uint32_t dtype, ndim, dims[4];
    uint64_t offset, length;
    group grp;
    int param;
} entry;

/* ------------------------------------------------------------- little endian */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

/* ---------------------------------------------------------- the config text */

/* Numbers are written and read in the C locale whatever the application set
 * (a GTK app may run under a locale with a decimal comma). */
typedef struct c_numeric {
    locale_t c, old;
} c_numeric;

static bool c_numeric_begin(c_numeric *s)
{
    s->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!s->c) return false;
    s->old = uselocale(s->c);
    return true;
}

static void c_numeric_end(c_numeric *s)
{
    uselocale(s->old);
    freelocale(s->c);
}

/* What the config text describes: the model config and the step counter. */
typedef struct ckpt_meta {
    thaw_model_config cfg;
    uint64_t steps;
} ckpt_meta;

typedef enum vtype { V_STR, V_INT, V_BOOL, V_FLOAT, V_FLOAT4, V_U64 } vtype;

typedef struct key_def {
    const char *name;
    vtype type;
    size_t off; /* in ckpt_meta */
    int lo, hi; /* V_INT range */
} key_def;

#define KEY(n, t, field, lo, hi)                                                                   \
    {                                                                                              \
        n, t, offsetof(ckpt_meta, field), lo, hi                                                   \
    }

/* Every key is required, once; the order here is the order Thaw writes. The
 * integer ranges are those thaw_model_new accepts. */
static const key_def keys[] = {
    KEY("arch", V_STR, cfg.arch, 0, 0),
    KEY("in_h", V_INT, cfg.in_h, 1, 4096),
    KEY("in_w", V_INT, cfg.in_w, 1, 4096),
    KEY("in_c", V_INT, cfg.in_c, 1, 64),
    KEY("classes", V_INT, cfg.classes, 0, 100000),
    KEY("head_hidden", V_INT, cfg.head_hidden, 0, 100000),
    KEY("dropout", V_FLOAT, cfg.dropout, 0, 0),
    KEY("pooling_avg", V_BOOL, cfg.pooling_avg, 0, 0),
    KEY("bn_eps", V_FLOAT, cfg.bn_eps, 0, 0),
    KEY("width", V_INT, cfg.width, 0, 4096),
    KEY("no_pool_pad", V_BOOL, cfg.no_pool_pad, 0, 0),
    KEY("seed", V_U64, cfg.seed, 0, 0),
    KEY("input_bgr", V_BOOL, cfg.input_bgr, 0, 0),
    KEY("input_mean", V_FLOAT4, cfg.input_mean, 0, 0),
    KEY("input_scale", V_FLOAT4, cfg.input_scale, 0, 0),
    KEY("steps", V_U64, steps, 0, 0),
};
#define N_KEYS ((int)(sizeof keys / sizeof keys[0]))

/* The shortest decimal that reads back as exactly v (at most 9 digits). */
static void format_float(char *buf, size_t n, float v)
{
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, n, "%.*g", p, (double)v);
        if (float_bits(strtof(buf, NULL)) == float_bits(v)) return;
    }
}

/* Formats key k's value; call inside c_numeric_begin/end. */
static void format_value(char *buf, size_t n, const key_def *k, const ckpt_meta *meta)
{
    const char *p = (const char *)meta + k->off;
    switch (k->type) {
    case V_STR:
        snprintf(buf, n, "%s", p);
        break;
    case V_INT: {
        int v;
        memcpy(&v, p, sizeof v);
        snprintf(buf, n, "%d", v);
        break;
    }
    case V_BOOL: {
        bool v;
        memcpy(&v, p, sizeof v);
        snprintf(buf, n, "%s", v ? "true" : "false");
        break;
    }
    case V_FLOAT: {
        float v;
        memcpy(&v, p, sizeof v);
        format_float(buf, n, v);
        break;
    }
    case V_FLOAT4: {
        size_t len = 0;
        for (int i = 0; i < 4 && len < n; i++) {
            float v;
            char one[32];
            memcpy(&v, p + i * sizeof(float), sizeof v);
            format_float(one, sizeof one, v);
            len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? " " : "", one);
        }
        break;
    }
    case V_U64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        snprintf(buf, n, "%" PRIu64, v);
        break;
    }
    }
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, const char **rest, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (end == s || !isfinite(v)) return false;
    if (rest)
        *rest = end;
    else if (*end)
        return false;
    *out = v;
    return true;
}

/* Parses value s of key k into meta; returns a description of the expected
 * value on failure. Call inside c_numeric_begin/end. */
static const char *parse_value(const key_def *k, const char *s, ckpt_meta *meta)
{
    char *p = (char *)meta + k->off;
    switch (k->type) {
    case V_STR:
        if (!*s || strlen(s) >= sizeof meta->cfg.arch) return "a name of 1 to 15 bytes";
        snprintf(p, sizeof meta->cfg.arch, "%s", s);
        return NULL;
    case V_INT: {
        const char *d = *s == '-' ? s + 1 : s;
        if (*d < '0' || *d > '9') return "an integer";
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (*end) return "an integer";
        if (errno || v < k->lo || v > k->hi) return "an integer in range";
        int iv = (int)v;
        memcpy(p, &iv, sizeof iv);
        return NULL;
    }
    case V_BOOL: {
        bool v;
        if (strcmp(s, "true") == 0)
            v = true;
        else if (strcmp(s, "false") == 0)
            v = false;
        else
            return "true or false";
        memcpy(p, &v, sizeof v);
        return NULL;
    }
    case V_FLOAT: {
        float v;
        if (!parse_float(s, NULL, &v)) return "a finite number";
        memcpy(p, &v, sizeof v);
        return NULL;
    }
    case V_FLOAT4: {
        float v[4];
        const char *q = s;
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                if (*q != ' ' && *q != '\t') return "4 finite numbers separated by spaces";
                while (*q == ' ' || *q == '\t') q++;
            }
            if (!parse_float(q, &q, &v[i])) return "4 finite numbers separated by spaces";
        }
        if (*q) return "4 finite numbers separated by spaces";
        memcpy(p, v, sizeof v);
        return NULL;
    }
    case V_U64: {
        uint64_t v;
        if (!parse_u64(s, &v)) return "an unsigned 64-bit integer";
        memcpy(p, &v, sizeof v);
        return NULL;
    }
    }
    return "a value";
}

/* ---------------------------------------------------------------- tensors */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Moving variances and Adam's second moments are sums of squares. */
static bool must_be_nonnegative(const thaw_param *p, group g)
{
    return g == G_OPT_V || (g == G_PARAM && p->is_state && has_suffix(p->name, "/moving_variance"));
}

static float *group_arena(const thaw_model *m, group g)
{
    switch (g) {
    case G_PARAM:
        return m->param_mem;
    case G_OPT_M:
        return m->opt_m;
    case G_OPT_V:
        return m->opt_v;
    default:
        return NULL;
    }
}

/* Checks float values; on failure describes the first bad one in why. */
static bool values_ok(const float *d, size_t n, bool nonneg, size_t base, char *why, size_t wn)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(d[i])) {
            snprintf(why, wn, "element %zu is not finite (%g)", base + i, (double)d[i]);
            return false;
        }
        if (nonneg && d[i] < 0.0f) {
            snprintf(why, wn, "element %zu is negative (%g)", base + i, (double)d[i]);
            return false;
        }
    }
    return true;
}

static void format_shape(char *buf, size_t n, int ndim, const uint32_t *dims)
{
    size_t len = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < ndim && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%" PRIu32, i ? ", " : "", dims[i]);
    if (len < n) snprintf(buf + len, n - len, ")");
}

/* ------------------------------------------------------------------ saving */

typedef struct writer {
    FILE *f;
    uLong crc;
    uint64_t pos;
    int error; /* errno of the first failure */
} writer;

static void w_bytes(writer *w, const void *p, size_t n)
{
    if (w->error || n == 0) return;
    const unsigned char *b = p;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < (1u << 30) ? n - done : (1u << 30);
        w->crc = crc32(w->crc, b + done, (uInt)k);
        done += k;
    }
    errno = 0;
    if (fwrite(p, 1, n, w->f) != n) {
        w->error = errno ? errno : EIO;
        return;
    }
    w->pos += n;
}

static void w_zeros_to(writer *w, uint64_t off)
{
    static const unsigned char zeros[DATA_ALIGN];
    while (!w->error && w->pos < off) {
        uint64_t k = off - w->pos < sizeof zeros ? off - w->pos : sizeof zeros;
        w_bytes(w, zeros, (size_t)k);
    }
}

static void w_tensor(writer *w, const thaw_model *m, const entry *e)
{
    const thaw_param *p = &m->params[e->param];
    unsigned char buf[CHUNK * 4];
    if (e->grp == G_OPT_STEPS) {
        put_u32(buf, m->opt_steps[e->param]);
        w_bytes(w, buf, 4);
        return;
    }
    const float *d = group_arena(m, e->grp) + p->offset;
    for (size_t i = 0; i < p->count; i += CHUNK) {
        size_t k = p->count - i < CHUNK ? p->count - i : CHUNK;
        for (size_t j = 0; j < k; j++) put_u32(buf + 4 * j, float_bits(d[i + j]));
        w_bytes(w, buf, 4 * k);
    }
}

static void encode_entry(unsigned char *b, const entry *e)
{
    memset(b, 0, ENTRY_SIZE);
    memcpy(b, e->name, strlen(e->name));
    put_u32(b + 128, e->dtype);
    put_u32(b + 132, e->ndim);
    for (int i = 0; i < 4; i++) put_u32(b + 136 + 4 * i, e->dims[i]);
    put_u64(b + 152, e->offset);
    put_u64(b + 160, e->length);
}

/* The permissions a new file would get: an existing target's, else 0666
 * minus the umask (read from /proc, since umask() cannot be read safely in a
 * threaded program). */
static mode_t new_file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 0777;
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[128];
        while (fgets(line, sizeof line, f)) {
            unsigned int m;
            if (sscanf(line, "Umask: %o", &m) == 1) {
                mask = (mode_t)m & 0777;
                break;
            }
        }
        fclose(f);
    }
    return 0666 & ~mask;
}

/* fsync of the folder holding path, so the rename itself is durable. */
static int sync_parent(const char *path)
{
    size_t n = strlen(path);
    char *dir = malloc(n + 2);
    if (!dir) return ENOMEM;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int rc = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        rc = errno;
    else {
        if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) rc = errno;
        close(fd);
    }
    free(dir);
    return rc;
}

static thaw_status check_model_values(const thaw_model *m, const entry *ents, size_t n,
                                      const char *path, thaw_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const entry *e = &ents[i];
        if (e->grp == G_OPT_STEPS) continue;
        const thaw_param *p = &m->params[e->param];
        char why[128];
        if (!values_ok(group_arena(m, e->grp) + p->offset, p->count, must_be_nonnegative(p, e->grp),
                       0, why, sizeof why))
            return thaw_error_set(err, THAW_ERR_NONFINITE, "cannot write '%s': tensor %s: %s", path,
                                  e->name, why);
    }
    return THAW_OK;
}

thaw_status thaw_checkpoint_save(const thaw_model *m, const char *path, bool with_optimizer,
                                 thaw_error *err)
{
    thaw_error_clear(err);
    if (!m || !path || !*path)
        return thaw_error_set(err, THAW_ERR_ARG, "checkpoint save: no model or no path");

    /* Only finite config numbers can be read back (thaw_model_new checks
     * the preprocessing of the channels in use, the file holds all four). */
    const thaw_model_config *c = &m->cfg;
    bool finite = isfinite(c->dropout) && isfinite(c->bn_eps);
    for (int i = 0; i < 4; i++)
        finite = finite && isfinite(c->input_mean[i]) && isfinite(c->input_scale[i]);
    if (!finite)
        return thaw_error_set(err, THAW_ERR_NONFINITE,
                              "cannot write '%s': the model config has a non-finite number", path);

    /* The tensors, in the order they are written. */
    size_t n_train = 0;
    for (int i = 0; i < m->n_params; i++) n_train += !m->params[i].is_state;
    bool grp_on[G_COUNT] = {true, with_optimizer && m->opt_m, with_optimizer && m->opt_v,
                            with_optimizer};
    size_t count = 0;
    for (int g = 0; g < G_COUNT; g++)
        if (grp_on[g]) count += g == G_PARAM ? (size_t)m->n_params : n_train;
    entry *ents = calloc(count ? count : 1, sizeof *ents);
    if (!ents) return thaw_error_set(err, THAW_ERR_NOMEM, "cannot write '%s': out of memory", path);
    size_t k = 0;
    for (int g = 0; g < G_COUNT; g++) {
        for (int i = 0; grp_on[g] && i < m->n_params; i++) {
            const thaw_param *p = &m->params[i];
            if (g != G_PARAM && p->is_state) continue;
            entry *e = &ents[k++];
            int len = snprintf(e->name, sizeof e->name, "%s%s", group_prefix[g], p->name);
            if (len < 0 || len >= NAME_FIELD) {
                free(ents);
                return thaw_error_set(err, THAW_ERR_ARG,
                                      "cannot write '%s': tensor name %s%s is too long", path,
                                      group_prefix[g], p->name);
            }
            e->grp = (group)g;
            e->param = i;
            if (g == G_OPT_STEPS) {
                e->dtype = DTYPE_U32;
                e->ndim = 0;
                e->length = 4;
            } else {
                e->dtype = DTYPE_F32;
                e->ndim = (uint32_t)p->ndim;
                for (int d = 0; d < p->ndim; d++) e->dims[d] = (uint32_t)p->dims[d];
                e->length = 4 * (uint64_t)p->count;
            }
        }
    }
    thaw_status st = check_model_values(m, ents, count, path, err);
    if (st != THAW_OK) {
        free(ents);
        return st;
    }

    /* The config text. */
    char text[2048];
    size_t text_len = 0;
    c_numeric loc;
    if (!c_numeric_begin(&loc)) {
        free(ents);
        return thaw_error_set(err, THAW_ERR_NOMEM, "cannot write '%s': out of memory", path);
    }
    ckpt_meta meta = {.cfg = m->cfg, .steps = m->steps};
    for (int i = 0; i < N_KEYS; i++) {
        char v[256];
        format_value(v, sizeof v, &keys[i], &meta);
        text_len +=
            (size_t)snprintf(text + text_len, sizeof text - text_len, "%s = %s\n", keys[i].name, v);
    }
    c_numeric_end(&loc);
    if (text_len >= sizeof text) { /* cannot happen: 16 short lines */
        free(ents);
        return thaw_error_set(err, THAW_ERR_ARG, "cannot write '%s': config text too long", path);
    }

    /* The layout: header, config text, directory (8-aligned), tensors
     * (64-aligned), CRC32. */
    const uint64_t dir_off = align_up(HEADER_SIZE + text_len, 8);
    uint64_t cursor = dir_off + (uint64_t)count * ENTRY_SIZE;
    for (size_t i = 0; i < count; i++) {
        ents[i].offset = align_up(cursor, DATA_ALIGN);
        cursor = ents[i].offset + ents[i].length;
    }
    const uint64_t file_size = cursor + 4;

    unsigned char hdr[HEADER_SIZE] = {0};
    memcpy(hdr, THAW_CHECKPOINT_MAGIC, 8);
    put_u32(hdr + 8, THAW_CHECKPOINT_VERSION);
    put_u32(hdr + 12, (uint32_t)count);
    put_u64(hdr + 16, file_size);
    put_u64(hdr + 24, HEADER_SIZE);
    put_u64(hdr + 32, text_len);
    put_u64(hdr + 40, dir_off);

    /* Write "<path>.XXXXXX" next to the target, then rename it over. */
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp) {
        free(ents);
        return thaw_error_set(err, THAW_ERR_NOMEM, "cannot write '%s': out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", 8);
    mode_t mode = new_file_mode(path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        free(ents);
        return thaw_error_set(err, THAW_ERR_IO,
                              "cannot write '%s': cannot create a temporary file next to it: %s",
                              path, strerror(e));
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fchmod(fd, mode);
    writer w = {.f = fdopen(fd, "wb"), .crc = crc32(0L, Z_NULL, 0)};
    if (!w.f) {
        w.error = errno ? errno : ENOMEM;
        close(fd);
    } else {
        w_bytes(&w, hdr, sizeof hdr);
        w_bytes(&w, text, text_len);
        w_zeros_to(&w, dir_off);
        unsigned char eb[ENTRY_SIZE];
        for (size_t i = 0; i < count; i++) {
            encode_entry(eb, &ents[i]);
            w_bytes(&w, eb, sizeof eb);
        }
        for (size_t i = 0; i < count; i++) {
            w_zeros_to(&w, ents[i].offset);
            w_tensor(&w, m, &ents[i]);
        }
        unsigned char trailer[4];
        put_u32(trailer, (uint32_t)w.crc);
        uLong crc = w.crc;
        w_bytes(&w, trailer, 4);
        w.crc = crc;
        if (!w.error && w.pos != file_size) w.error = EIO; /* a bug, never a disk */
        if (!w.error && fflush(w.f) != 0) w.error = errno ? errno : EIO;
        if (!w.error && fsync(fileno(w.f)) != 0 && errno != EINVAL) w.error = errno;
        if (fclose(w.f) != 0 && !w.error) w.error = errno ? errno : EIO;
    }
    free(ents);
    if (w.error) {
        unlink(tmp);
        free(tmp);
        return thaw_error_set(err, THAW_ERR_IO, "cannot write '%s': %s", path, strerror(w.error));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return thaw_error_set(err, THAW_ERR_IO, "cannot write '%s': cannot replace it: %s", path,
                              strerror(e));
    }
    free(tmp);
    int rc = sync_parent(path);
    if (rc)
        return thaw_error_set(err, THAW_ERR_IO,
                              "'%s' was written, but its folder could not be synced: %s", path,
                              strerror(rc));
    return THAW_OK;
}

/* ----------------------------------------------------------------- loading */

typedef struct reader {
    FILE *f;
    const char *path;
    uint64_t size;
    thaw_error *err;
} reader;

static thaw_status rfail(reader *r, thaw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static thaw_status rfail(reader *r, thaw_status st, const char *fmt, ...)
{
    char msg[THAW_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return thaw_error_set(r->err, st, "cannot read '%s': %s", r->path, msg);
}

static thaw_status read_at(reader *r, uint64_t off, void *buf, size_t n)
{
    if (off > (uint64_t)INT64_MAX || fseeko(r->f, (off_t)off, SEEK_SET) != 0)
        return rfail(r, THAW_ERR_IO, "cannot seek to byte %" PRIu64 ": %s", off, strerror(errno));
    errno = 0;
    if (fread(buf, 1, n, r->f) != n) {
        if (feof(r->f))
            return rfail(r, THAW_ERR_FORMAT,
                         "the file ended early at byte %" PRIu64 " (was it changed while reading?)",
                         off);
        return rfail(r, THAW_ERR_IO, "read error at byte %" PRIu64 ": %s", off,
                     strerror(errno ? errno : EIO));
    }
    return THAW_OK;
}

static thaw_status check_crc(reader *r)
{
    enum { BUF = 1 << 16 };
    unsigned char *buf = malloc(BUF);
    if (!buf) return rfail(r, THAW_ERR_NOMEM, "out of memory");
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t body = r->size - 4;
    thaw_status st = THAW_OK;
    for (uint64_t off = 0; st == THAW_OK && off < body; off += BUF) {
        size_t k = body - off < BUF ? (size_t)(body - off) : BUF;
        st = read_at(r, off, buf, k);
        if (st == THAW_OK) crc = crc32(crc, buf, (uInt)k);
    }
    if (st == THAW_OK) st = read_at(r, body, buf, 4);
    if (st == THAW_OK && get_u32(buf) != (uint32_t)crc)
        st = rfail(r, THAW_ERR_FORMAT, "checksum mismatch: file is damaged");
    free(buf);
    return st;
}

static thaw_status parse_config(reader *r, char *text, ckpt_meta *meta)
{
    memset(meta, 0, sizeof *meta);
    bool seen[N_KEYS] = {false};
    c_numeric loc;
    if (!c_numeric_begin(&loc)) return rfail(r, THAW_ERR_NOMEM, "out of memory");
    thaw_status st = THAW_OK;
    int line_no = 0;
    for (char *line = text; st == THAW_OK && line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_no++;
        /* trim spaces, tabs and a CR */
        while (*line == ' ' || *line == '\t') line++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *eq = strchr(line, '=');
        if (*line == '\0' || *line == '#') {
            /* blank or comment */
        } else if (!eq || eq == line) {
            st = rfail(r, THAW_ERR_FORMAT, "config line %d: expected 'key = value', found '%.60s'",
                       line_no, line);
        } else {
            char *key_end = eq;
            while (key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t')) key_end--;
            *key_end = '\0';
            char *val = eq + 1;
            while (*val == ' ' || *val == '\t') val++;
            int k = -1;
            for (int i = 0; i < N_KEYS; i++)
                if (strcmp(keys[i].name, line) == 0) k = i;
            if (strncmp(line, "x-", 2) == 0) {
                /* extension keys are ignored */
            } else if (k < 0) {
                st = rfail(r, THAW_ERR_FORMAT,
                           "config line %d: unknown key '%.60s' (keys starting with x- are "
                           "ignored)",
                           line_no, line);
            } else if (seen[k]) {
                st = rfail(r, THAW_ERR_FORMAT, "config line %d: key '%s' appears twice", line_no,
                           keys[k].name);
            } else {
                seen[k] = true;
                const char *want = parse_value(&keys[k], val, meta);
                if (want)
                    st = rfail(r, THAW_ERR_FORMAT, "config line %d: %s = '%.60s' is not %s",
                               line_no, keys[k].name, val, want);
            }
        }
        line = next;
    }
    c_numeric_end(&loc);
    for (int k = 0; st == THAW_OK && k < N_KEYS; k++)
        if (!seen[k]) st = rfail(r, THAW_ERR_FORMAT, "config: key '%s' is missing", keys[k].name);
    return st;
}

/* A lower bound of the parameter count of cfg's model (its conv and dense
 * kernels), from the graph alone: a small file must not make us allocate a
 * huge model. */
static thaw_status check_model_fits(reader *r, const thaw_model_config *cfg)
{
    thaw_model tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.cfg = *cfg;
    thaw_error e;
    thaw_error_clear(&e);
    thaw_builder b = {.m = &tmp, .in_base = true, .err = &e};
    thaw_status st = thaw_resnet_build(&b);
    uint64_t floats = 0;
    for (int i = 0; st == THAW_OK && i < tmp.n_layers; i++) {
        const thaw_layer *l = &tmp.layers[i];
        if (l->kind != THAW_LAYER_CONV2D && l->kind != THAW_LAYER_DENSE) continue;
        const thaw_layer *x = &tmp.layers[l->inputs[0]];
        uint64_t taps = l->kind == THAW_LAYER_CONV2D ? (uint64_t)l->kh * (uint64_t)l->kw : 1;
        floats += taps * (uint64_t)x->oc * (uint64_t)l->oc;
    }
    free(tmp.layers);
    if (st != THAW_OK)
        return rfail(r, st == THAW_ERR_NOMEM ? st : THAW_ERR_FORMAT, "config: %s", e.msg);
    if (floats > r->size / 4)
        return rfail(r, THAW_ERR_FORMAT,
                     "config: a %s of width %d has at least %" PRIu64
                     " parameters, more than the file's %" PRIu64 " bytes can hold",
                     cfg->arch, cfg->width, floats, r->size);
    return THAW_OK;
}

static thaw_status decode_directory(reader *r, const unsigned char *raw, uint32_t count,
                                    entry *ents)
{
    const uint64_t body = r->size - 4;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *b = raw + (size_t)i * ENTRY_SIZE;
        entry *e = &ents[i];
        const unsigned char *nul = memchr(b, 0, NAME_FIELD);
        if (!nul || nul == b)
            return rfail(r, THAW_ERR_FORMAT,
                         "directory entry %" PRIu32 ": the name is empty or not NUL-terminated", i);
        for (const unsigned char *q = b; q < nul; q++)
            if (*q < 0x20 || *q == 0x7f)
                return rfail(r, THAW_ERR_FORMAT,
                             "directory entry %" PRIu32 ": the name has a control character", i);
        for (const unsigned char *q = nul; q < b + NAME_FIELD; q++)
            if (*q)
                return rfail(r, THAW_ERR_FORMAT,
                             "directory entry %" PRIu32 ": the bytes after the name are not zero",
                             i);
        memcpy(e->name, b, (size_t)(nul - b) + 1);
        e->dtype = get_u32(b + 128);
        e->ndim = get_u32(b + 132);
        for (int d = 0; d < 4; d++) e->dims[d] = get_u32(b + 136 + 4 * d);
        e->offset = get_u64(b + 152);
        e->length = get_u64(b + 160);
        if (e->dtype != DTYPE_F32 && e->dtype != DTYPE_U32)
            return rfail(r, THAW_ERR_FORMAT,
                         "tensor %s: unknown dtype %" PRIu32 " (1 = float32, 2 = uint32)", e->name,
                         e->dtype);
        if (e->ndim > 4)
            return rfail(r, THAW_ERR_FORMAT, "tensor %s: %" PRIu32 " dimensions (at most 4)",
                         e->name, e->ndim);
        uint64_t elements = 1;
        for (uint32_t d = 0; d < 4; d++) {
            if (d >= e->ndim) {
                if (e->dims[d] != 0)
                    return rfail(r, THAW_ERR_FORMAT,
                                 "tensor %s: dims beyond ndim %" PRIu32 " are not zero", e->name,
                                 e->ndim);
                continue;
            }
            if (e->dims[d] && elements > r->size / e->dims[d])
                return rfail(r, THAW_ERR_FORMAT, "tensor %s: its shape is larger than the file",
                             e->name);
            elements *= e->dims[d];
        }
        char shape[96];
        format_shape(shape, sizeof shape, (int)e->ndim, e->dims);
        if (e->length != 4 * elements)
            return rfail(r, THAW_ERR_FORMAT,
                         "tensor %s: length %" PRIu64 " bytes, but shape %s of %s needs %" PRIu64,
                         e->name, e->length, shape, e->dtype == DTYPE_F32 ? "float32" : "uint32",
                         4 * elements);
        if (e->offset % DATA_ALIGN)
            return rfail(r, THAW_ERR_FORMAT,
                         "tensor %s: offset %" PRIu64 " is not a multiple of %d", e->name,
                         e->offset, DATA_ALIGN);
        if (e->offset < HEADER_SIZE || e->offset > body || e->length > body - e->offset)
            return rfail(r, THAW_ERR_FORMAT,
                         "tensor %s: its data (%" PRIu64 " bytes at offset %" PRIu64
                         ") lies outside the file's %" PRIu64 " bytes",
                         e->name, e->length, e->offset, r->size);
    }
    return THAW_OK;
}

typedef struct region {
    uint64_t off, len;
    const char *what; /* "tensor", "config text", "directory" */
    const char *name; /* tensor name or "" */
} region;

static int region_cmp(const void *a, const void *b)
{
    const region *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* The config text, the directory and every tensor occupy disjoint bytes. */
static thaw_status check_overlaps(reader *r, const entry *ents, uint32_t count, uint64_t cfg_off,
                                  uint64_t cfg_len, uint64_t dir_off)
{
    region *rg = malloc(((size_t)count + 2) * sizeof *rg);
    if (!rg) return rfail(r, THAW_ERR_NOMEM, "out of memory");
    size_t n = 0;
    rg[n++] = (region){cfg_off, cfg_len, "the config text", ""};
    rg[n++] = (region){dir_off, (uint64_t)count * ENTRY_SIZE, "the directory", ""};
    for (uint32_t i = 0; i < count; i++)
        if (ents[i].length)
            rg[n++] = (region){ents[i].offset, ents[i].length, "tensor ", ents[i].name};
    qsort(rg, n, sizeof *rg, region_cmp);
    thaw_status st = THAW_OK;
    for (size_t i = 0; i + 1 < n && st == THAW_OK; i++)
        if (rg[i].off + rg[i].len > rg[i + 1].off)
            st = rfail(r, THAW_ERR_FORMAT,
                       "%s%s overlaps %s%s (offsets %" PRIu64 " and %" PRIu64 ")", rg[i].what,
                       rg[i].name, rg[i + 1].what, rg[i + 1].name, rg[i].off, rg[i + 1].off);
    free(rg);
    return st;
}

/* Resolves every directory name to a model tensor, and checks that each
 * tensor appears exactly once with the model's dtype and shape, and that the
 * optimizer state, if any, is complete. */
static thaw_status match_tensors(reader *r, thaw_model *m, entry *ents, uint32_t count,
                                 bool has[G_COUNT])
{
    bool *seen = calloc((size_t)m->n_params * G_COUNT + 1, sizeof *seen);
    if (!seen) return rfail(r, THAW_ERR_NOMEM, "out of memory");
    thaw_status st = THAW_OK;
    for (int g = 0; g < G_COUNT; g++) has[g] = false;
    for (uint32_t i = 0; st == THAW_OK && i < count; i++) {
        entry *e = &ents[i];
        group g = G_PARAM;
        const char *pname = e->name;
        for (int k = 1; k < G_COUNT; k++) {
            size_t n = strlen(group_prefix[k]);
            if (strncmp(e->name, group_prefix[k], n) == 0) {
                g = (group)k;
                pname = e->name + n;
            }
        }
        thaw_param *p = thaw_model_find_param(m, pname);
        if (!p) {
            st = rfail(r, THAW_ERR_FORMAT, "tensor %s: the %s model has no such tensor", e->name,
                       m->cfg.arch);
            break;
        }
        if (g != G_PARAM && p->is_state) {
            st = rfail(r, THAW_ERR_FORMAT, "tensor %s: moving statistics have no optimizer state",
                       e->name);
            break;
        }
        int idx = (int)(p - m->params);
        if (seen[(size_t)idx * G_COUNT + g]) {
            st = rfail(r, THAW_ERR_FORMAT, "tensor %s appears twice in the directory", e->name);
            break;
        }
        seen[(size_t)idx * G_COUNT + g] = true;
        has[g] = true;
        uint32_t want_dtype = g == G_OPT_STEPS ? DTYPE_U32 : DTYPE_F32;
        if (e->dtype != want_dtype) {
            st = rfail(r, THAW_ERR_FORMAT, "tensor %s: dtype %s, expected %s", e->name,
                       e->dtype == DTYPE_F32 ? "float32" : "uint32",
                       want_dtype == DTYPE_F32 ? "float32" : "uint32");
            break;
        }
        uint32_t want_dims[4] = {0};
        int want_ndim = g == G_OPT_STEPS ? 0 : p->ndim;
        for (int d = 0; d < want_ndim; d++) want_dims[d] = (uint32_t)p->dims[d];
        if ((int)e->ndim != want_ndim || memcmp(e->dims, want_dims, sizeof want_dims) != 0) {
            char have[96], want[96];
            format_shape(have, sizeof have, (int)e->ndim, e->dims);
            format_shape(want, sizeof want, want_ndim, want_dims);
            st = rfail(r, THAW_ERR_SHAPE, "tensor %s: shape %s but the model has %s", e->name, have,
                       want);
            break;
        }
        e->grp = g;
        e->param = idx;
    }
    /* Completeness: every parameter; each optimizer group all or nothing;
     * opt_v needs opt_m, and moments need their step counts. */
    bool need[G_COUNT] = {true, has[G_OPT_M] || has[G_OPT_V], has[G_OPT_V],
                          has[G_OPT_STEPS] || has[G_OPT_M] || has[G_OPT_V]};
    for (int g = 0; st == THAW_OK && g < G_COUNT; g++) {
        if (!need[g]) continue;
        for (int i = 0; i < m->n_params; i++) {
            const thaw_param *p = &m->params[i];
            if (g != G_PARAM && p->is_state) continue;
            if (!seen[(size_t)i * G_COUNT + g]) {
                st = rfail(r, THAW_ERR_FORMAT, "tensor %s%s is missing", group_prefix[g], p->name);
                break;
            }
        }
    }
    free(seen);
    return st;
}

static thaw_status read_tensor(reader *r, thaw_model *m, const entry *e, unsigned char *buf)
{
    if (e->offset > (uint64_t)INT64_MAX || fseeko(r->f, (off_t)e->offset, SEEK_SET) != 0)
        return rfail(r, THAW_ERR_IO, "tensor %s: cannot seek: %s", e->name, strerror(errno));
    if (e->grp == G_OPT_STEPS) {
        if (fread(buf, 1, 4, r->f) != 4)
            return rfail(r, THAW_ERR_IO, "tensor %s: read error", e->name);
        m->opt_steps[e->param] = get_u32(buf);
        return THAW_OK;
    }
    const thaw_param *p = &m->params[e->param];
    float *d = group_arena(m, e->grp) + p->offset;
    bool nonneg = must_be_nonnegative(p, e->grp);
    for (size_t i = 0; i < p->count; i += CHUNK) {
        size_t k = p->count - i < CHUNK ? p->count - i : CHUNK;
        if (fread(buf, 1, 4 * k, r->f) != 4 * k)
            return rfail(r, THAW_ERR_IO, "tensor %s: read error", e->name);
        for (size_t j = 0; j < k; j++) d[i + j] = bits_float(get_u32(buf + 4 * j));
        char why[128];
        if (!values_ok(d + i, k, nonneg, i, why, sizeof why))
            return rfail(r, THAW_ERR_NONFINITE, "tensor %s: %s", e->name, why);
    }
    return THAW_OK;
}

static thaw_status load_file(reader *r, thaw_model **out)
{
    unsigned char hdr[HEADER_SIZE];
    if (r->size >= 8) {
        thaw_status st = read_at(r, 0, hdr, 8);
        if (st != THAW_OK) return st;
        if (memcmp(hdr, THAW_CHECKPOINT_MAGIC, 8) != 0)
            return rfail(r, THAW_ERR_FORMAT, "not a Thaw checkpoint (bad magic)");
    }
    if (r->size < HEADER_SIZE + 4)
        return rfail(r, THAW_ERR_FORMAT,
                     "the file is too short (%" PRIu64 " bytes) for a Thaw checkpoint", r->size);
    thaw_status st = read_at(r, 0, hdr, sizeof hdr);
    if (st != THAW_OK) return st;
    uint32_t version = get_u32(hdr + 8);
    if (version != THAW_CHECKPOINT_VERSION)
        return rfail(r, THAW_ERR_UNSUPPORTED,
                     "checkpoint version %" PRIu32
                     " is not supported (this build reads version %d)",
                     version, THAW_CHECKPOINT_VERSION);
    uint64_t file_size = get_u64(hdr + 16);
    if (file_size != r->size)
        return rfail(r, THAW_ERR_FORMAT,
                     "the header says %" PRIu64 " bytes but the file has %" PRIu64
                     " (truncated or appended to)",
                     file_size, r->size);
    st = check_crc(r);
    if (st != THAW_OK) return st;

    uint32_t count = get_u32(hdr + 12);
    uint64_t cfg_off = get_u64(hdr + 24), cfg_len = get_u64(hdr + 32), dir_off = get_u64(hdr + 40);
    const uint64_t body = r->size - 4;
    for (int i = 48; i < HEADER_SIZE; i++)
        if (hdr[i]) return rfail(r, THAW_ERR_FORMAT, "header byte %d (reserved) is not zero", i);
    if (cfg_len == 0 || cfg_len > CONFIG_MAX)
        return rfail(r, THAW_ERR_FORMAT, "config text length %" PRIu64 " is not in 1..%d", cfg_len,
                     CONFIG_MAX);
    if (cfg_off < HEADER_SIZE || cfg_off > body || cfg_len > body - cfg_off)
        return rfail(r, THAW_ERR_FORMAT,
                     "the config text (%" PRIu64 " bytes at offset %" PRIu64
                     ") lies outside the file",
                     cfg_len, cfg_off);
    if (count == 0 || count > TENSORS_MAX || count > (body - HEADER_SIZE) / ENTRY_SIZE)
        return rfail(r, THAW_ERR_FORMAT,
                     "tensor count %" PRIu32 " is out of range for a file of %" PRIu64 " bytes",
                     count, r->size);
    if (dir_off < HEADER_SIZE || dir_off > body || (uint64_t)count * ENTRY_SIZE > body - dir_off)
        return rfail(r, THAW_ERR_FORMAT,
                     "the directory (%" PRIu32 " entries at offset %" PRIu64
                     ") lies outside the file",
                     count, dir_off);

    char *text = malloc((size_t)cfg_len + 1);
    unsigned char *raw = malloc((size_t)count * ENTRY_SIZE);
    entry *ents = calloc(count, sizeof *ents);
    unsigned char *buf = malloc(CHUNK * 4);
    thaw_model *m = NULL;
    if (!text || !raw || !ents || !buf) st = rfail(r, THAW_ERR_NOMEM, "out of memory");
    if (st == THAW_OK) st = read_at(r, cfg_off, text, (size_t)cfg_len);
    if (st == THAW_OK && memchr(text, 0, (size_t)cfg_len))
        st = rfail(r, THAW_ERR_FORMAT, "the config text contains a NUL byte");
    if (st == THAW_OK) text[cfg_len] = '\0';
    if (st == THAW_OK) st = read_at(r, dir_off, raw, (size_t)count * ENTRY_SIZE);
    if (st == THAW_OK) st = decode_directory(r, raw, count, ents);
    if (st == THAW_OK) st = check_overlaps(r, ents, count, cfg_off, cfg_len, dir_off);
    ckpt_meta meta;
    if (st == THAW_OK) st = parse_config(r, text, &meta);
    if (st == THAW_OK) st = check_model_fits(r, &meta.cfg);
    if (st == THAW_OK) {
        thaw_error e;
        thaw_error_clear(&e);
        thaw_status ms = thaw_model_new_uninitialized(&m, &meta.cfg, &e);
        if (ms != THAW_OK)
            st = rfail(r, ms == THAW_ERR_NOMEM ? ms : THAW_ERR_FORMAT, "config: %s", e.msg);
    }
    bool has[G_COUNT];
    if (st == THAW_OK) st = match_tensors(r, m, ents, count, has);
    if (st == THAW_OK && has[G_OPT_M] && !(m->opt_m = thaw_alloc_floats(m->n_floats)))
        st = rfail(r, THAW_ERR_NOMEM, "out of memory for the optimizer state");
    if (st == THAW_OK && has[G_OPT_V] && !(m->opt_v = thaw_alloc_floats(m->n_floats)))
        st = rfail(r, THAW_ERR_NOMEM, "out of memory for the optimizer state");
    for (uint32_t i = 0; st == THAW_OK && i < count; i++) st = read_tensor(r, m, &ents[i], buf);
    if (st == THAW_OK) {
        m->steps = meta.steps;
        *out = m;
    } else {
        thaw_model_free(m);
    }
    free(text);
    free(raw);
    free(ents);
    free(buf);
    return st;
}

thaw_status thaw_checkpoint_load(thaw_model **out, const char *path, thaw_error *err)
{
    thaw_error_clear(err);
    *out = NULL;
    if (!path || !*path) return thaw_error_set(err, THAW_ERR_ARG, "checkpoint load: no path");
    FILE *f = fopen(path, "rb");
    if (!f) return thaw_error_set(err, THAW_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    thaw_status st;
    if (fstat(fileno(f), &sb) != 0)
        st = thaw_error_set(err, THAW_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = thaw_error_set(err, THAW_ERR_IO, "cannot read '%s': not a regular file", path);
    else {
        reader r = {.f = f, .path = path, .size = (uint64_t)sb.st_size, .err = err};
        st = load_file(&r, out);
    }
    fclose(f);
    return st;
}

thaw_status thaw_checkpoint_load_into(thaw_model *m, const char *path, thaw_error *err)
{
    thaw_model *t = NULL;
    thaw_status st = thaw_checkpoint_load(&t, path, err);
    if (st != THAW_OK) return st;

    /* Compare the configs as the text would show them. */
    c_numeric loc;
    if (!c_numeric_begin(&loc)) {
        thaw_model_free(t);
        return thaw_error_set(err, THAW_ERR_NOMEM, "cannot read '%s': out of memory", path);
    }
    ckpt_meta a = {.cfg = t->cfg}, b = {.cfg = m->cfg};
    for (int k = 0; st == THAW_OK && k < N_KEYS; k++) {
        if (strcmp(keys[k].name, "seed") == 0 || strcmp(keys[k].name, "steps") == 0) continue;
        char va[256], vb[256];
        format_value(va, sizeof va, &keys[k], &a);
        format_value(vb, sizeof vb, &keys[k], &b);
        if (strcmp(va, vb) != 0)
            st = thaw_error_set(err, THAW_ERR_SHAPE,
                                "cannot load '%s' into this model: %s is %s in the file but %s "
                                "in the model",
                                path, keys[k].name, va, vb);
    }
    c_numeric_end(&loc);
    if (st == THAW_OK && (t->n_floats != m->n_floats || t->n_params != m->n_params))
        st = thaw_error_set(err, THAW_ERR_SHAPE,
                            "cannot load '%s' into this model: the "
                            "parameters differ",
                            path);
    if (st != THAW_OK) {
        thaw_model_free(t);
        return st;
    }
    /* Same graph, same arena layout: swap the arenas, free the old ones. */
    float *pm = m->param_mem, *om = m->opt_m, *ov = m->opt_v;
    uint32_t *os = m->opt_steps;
    m->param_mem = t->param_mem;
    m->opt_m = t->opt_m;
    m->opt_v = t->opt_v;
    m->opt_steps = t->opt_steps;
    m->steps = t->steps;
    t->param_mem = pm;
    t->opt_m = om;
    t->opt_v = ov;
    t->opt_steps = os;
    thaw_model_free(t);
    thaw_model_params_changed(m);
    return THAW_OK;
}
