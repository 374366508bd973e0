/* The `.thaw` checkpoint format: bit-exact round trips (resnet8, a tiny
 * resnet50 with caffe preprocessing, with and without optimizer state),
 * load_into, truncation and byte flips at many offsets, crafted damage of
 * every kind (each a clean error naming the file and the tensor), atomic saves
 * that fail (missing folder, rename over a directory, a file-size limit, a
 * read-only folder) leaving the previous file intact and no temporary files,
 * and the Python reference script both ways. */
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "io/checkpoint.h"
#include "thaw.h"
#include "testutil.h"

static char tmpdir[256];

/* ------------------------------------------------------------------ helpers */

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(size > 0 ? (size_t)size : 1);
    if (!b || fread(b, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "test: cannot read %s\n", path);
        exit(99);
    }
    fclose(f);
    *n = (size_t)size;
    return b;
}

static void write_all(const char *path, const unsigned char *b, size_t n)
{
    /* A new file rather than a truncated one: ext4 flushes files truncated
     * and rewritten (auto_da_alloc), which makes thousands of cases slow. */
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "test: cannot write %s\n", path);
        exit(99);
    }
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void fix_crc(unsigned char *b, size_t n)
{
    wr32(b + n - 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)(n - 4)));
}

/* Directory entry of the tensor called name, or NULL. */
static unsigned char *find_entry(unsigned char *b, const char *name)
{
    uint32_t count = rd32(b + 12);
    unsigned char *dir = b + rd64(b + 40);
    for (uint32_t i = 0; i < count; i++)
        if (strcmp((const char *)dir + 168 * (size_t)i, name) == 0) return dir + 168 * (size_t)i;
    return NULL;
}

/* Count of files in tmpdir whose name starts with prefix. */
static int count_prefixed(const char *prefix)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    if (d) closedir(d);
    return n;
}

/* Removes path and, for a folder, everything in it. */
static void rm_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        if (d) closedir(d);
    }
    remove(path);
}

static thaw_model *make(const thaw_model_config *cfg)
{
    thaw_model *m = NULL;
    thaw_error err;
    if (thaw_model_new(&m, cfg, &err) != THAW_OK) {
        fprintf(stderr, "model: %s\n", err.msg);
        exit(99);
    }
    return m;
}

static void cfg_small(thaw_model_config *cfg, const char *arch, int h, int c, int classes)
{
    thaw_model_config_default(cfg);
    snprintf(cfg->arch, sizeof cfg->arch, "%s", arch);
    cfg->in_h = cfg->in_w = h;
    cfg->in_c = c;
    cfg->classes = classes;
}

/* Random raw pixels in 0..255 and labels. */
static void batch(const thaw_model *m, float *x, int32_t *y, int n, uint64_t seed)
{
    thaw_rng rng;
    thaw_rng_seed(&rng, seed, 7);
    size_t per = (size_t)m->cfg.in_h * m->cfg.in_w * m->cfg.in_c;
    thaw_test_fill_uniform(x, (size_t)n * per, 0.0f, 255.0f, &rng);
    for (int i = 0; i < n; i++) y[i] = (int32_t)thaw_rng_below(&rng, (uint32_t)m->cfg.classes);
}

static void train(thaw_model *m, thaw_opt_kind kind, int steps)
{
    enum { N = 4 };
    size_t per = (size_t)m->cfg.in_h * m->cfg.in_w * m->cfg.in_c;
    float *x = thaw_test_alloc(N * per);
    int32_t y[N];
    thaw_optimizer opt;
    thaw_optimizer_default(&opt, kind);
    opt.lr = 1e-3f;
    for (int s = 0; s < steps; s++) {
        batch(m, x, y, N, 100 + (uint64_t)s);
        thaw_error err;
        thaw_status st = thaw_model_train_step(m, x, y, N, &opt, NULL, &err);
        CHECK_MSG(st == THAW_OK, "train step: %s", err.msg);
    }
    free(x);
}

static bool cfg_equal(const thaw_model_config *a, const thaw_model_config *b)
{
    return strcmp(a->arch, b->arch) == 0 && a->in_h == b->in_h && a->in_w == b->in_w &&
           a->in_c == b->in_c && a->classes == b->classes && a->head_hidden == b->head_hidden &&
           memcmp(&a->dropout, &b->dropout, sizeof a->dropout) == 0 &&
           a->pooling_avg == b->pooling_avg &&
           memcmp(&a->bn_eps, &b->bn_eps, sizeof a->bn_eps) == 0 && a->width == b->width &&
           a->no_pool_pad == b->no_pool_pad && a->seed == b->seed && a->input_bgr == b->input_bgr &&
           memcmp(a->input_mean, b->input_mean, sizeof a->input_mean) == 0 &&
           memcmp(a->input_scale, b->input_scale, sizeof a->input_scale) == 0;
}

/* Bit-identical parameters, statistics, step counters and (if opt) optimizer
 * state; without opt, b must have no optimizer state at all. */
static void check_same_state(const char *what, const thaw_model *a, const thaw_model *b, bool opt)
{
    CHECK_MSG(a->n_params == b->n_params && a->n_floats == b->n_floats, "%s: layout", what);
    if (a->n_params != b->n_params || a->n_floats != b->n_floats) return;
    for (int i = 0; i < a->n_params; i++) {
        const thaw_param *p = &a->params[i], *q = &b->params[i];
        CHECK_MSG(strcmp(p->name, q->name) == 0 && p->offset == q->offset && p->count == q->count,
                  "%s: param %d", what, i);
        thaw_test_same(p->name, thaw_param_data(b, q), thaw_param_data(a, p), p->count);
    }
    CHECK_MSG(a->steps == b->steps, "%s: steps %llu vs %llu", what, (unsigned long long)a->steps,
              (unsigned long long)b->steps);
    if (opt) {
        CHECK_MSG(!a->opt_m == !b->opt_m && !a->opt_v == !b->opt_v, "%s: optimizer arenas", what);
        if (a->opt_m && b->opt_m) thaw_test_same("opt_m", b->opt_m, a->opt_m, a->n_floats);
        if (a->opt_v && b->opt_v) thaw_test_same("opt_v", b->opt_v, a->opt_v, a->n_floats);
        CHECK_MSG(memcmp(a->opt_steps, b->opt_steps, (size_t)a->n_params * sizeof(uint32_t)) == 0,
                  "%s: opt_steps", what);
    } else {
        CHECK_MSG(!b->opt_m && !b->opt_v, "%s: unexpected optimizer state", what);
        for (int i = 0; i < b->n_params; i++) CHECK(b->opt_steps[i] == 0);
    }
}

static void check_same_predictions(const char *what, thaw_model *a, thaw_model *b)
{
    enum { N = 3 };
    size_t per = (size_t)a->cfg.in_h * a->cfg.in_w * a->cfg.in_c;
    float *x = thaw_test_alloc(N * per);
    int32_t y[N];
    batch(a, x, y, N, 999);
    size_t np = (size_t)N * thaw_model_output(a)->oc;
    float *pa = thaw_test_alloc(np), *pb = thaw_test_alloc(np);
    thaw_error err;
    CHECK(thaw_model_predict(a, x, N, N, false, 0, pa, &err) == THAW_OK);
    CHECK(thaw_model_predict(b, x, N, N, false, 0, pb, &err) == THAW_OK);
    CHECK_MSG(memcmp(pa, pb, np * sizeof(float)) == 0, "%s: inference predictions differ", what);
    CHECK(thaw_model_predict(a, x, N, N, true, 5, pa, &err) == THAW_OK);
    CHECK(thaw_model_predict(b, x, N, N, true, 5, pb, &err) == THAW_OK);
    CHECK_MSG(memcmp(pa, pb, np * sizeof(float)) == 0, "%s: training-mode predictions differ",
              what);
    free(x);
    free(pa);
    free(pb);
}

/* Loads path and expects failure with status st (any failure if st is
 * THAW_OK) and a message naming the file and containing `needle`. */
static void expect_fail(const char *what, const char *path, thaw_status st, const char *needle)
{
    thaw_model *m = (thaw_model *)&m; /* must be reset to NULL */
    thaw_error err;
    thaw_status got = thaw_checkpoint_load(&m, path, &err);
    CHECK_MSG(got != THAW_OK, "%s: loaded", what);
    CHECK_MSG(m == NULL, "%s: *out not NULL on failure", what);
    if (got == THAW_OK) thaw_model_free(m);
    if (st != THAW_OK)
        CHECK_MSG(got == st, "%s: status %s, expected %s (%s)", what, thaw_status_to_string(got),
                  thaw_status_to_string(st), err.msg);
    CHECK_MSG(err.status == got, "%s: err.status", what);
    CHECK_MSG(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what,
              err.msg);
    if (needle)
        CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.msg,
                  needle);
    if (getenv("THAW_TEST_VERBOSE")) fprintf(stderr, "  %s -> %s\n", what, err.msg);
}

/* ------------------------------------------------------------ round trips */

static void roundtrip(const char *tag, const thaw_model_config *cfg, thaw_opt_kind kind)
{
    thaw_model *m = make(cfg);
    train(m, kind, 2);
    CHECK_MSG(m->opt_m && m->steps == 2, "%s: training did not create optimizer state", tag);
    if (kind == THAW_OPT_ADAM) CHECK(m->opt_v != NULL);
    thaw_error err;
    char name[64];

    for (int with_opt = 0; with_opt <= 1; with_opt++) {
        snprintf(name, sizeof name, "%s-%d.thaw", tag, with_opt);
        const char *path = tpath(name);
        thaw_status st = thaw_checkpoint_save(m, path, with_opt, &err);
        CHECK_MSG(st == THAW_OK, "%s: save: %s", tag, err.msg);
        thaw_model *b = NULL;
        st = thaw_checkpoint_load(&b, path, &err);
        CHECK_MSG(st == THAW_OK && b, "%s: load: %s", tag, err.msg);
        if (!b) continue;
        CHECK_MSG(cfg_equal(&m->cfg, &b->cfg), "%s: config differs", tag);
        check_same_state(name, m, b, with_opt);
        check_same_predictions(name, m, b);

        /* Saving the loaded model writes the same bytes. */
        char again[80];
        snprintf(again, sizeof again, "%s-%d-again.thaw", tag, with_opt);
        CHECK(thaw_checkpoint_save(b, tpath(again), with_opt, &err) == THAW_OK);
        size_t n1, n2;
        unsigned char *f1 = read_all(path, &n1), *f2 = read_all(tpath(again), &n2);
        CHECK_MSG(n1 == n2 && memcmp(f1, f2, n1) == 0, "%s: re-saved file differs", name);
        free(f1);
        free(f2);

        /* load_into a model of the same architecture with another seed. */
        thaw_model_config c2 = *cfg;
        c2.seed = cfg->seed + 17;
        thaw_model *into = make(&c2);
        if (!with_opt) train(into, kind, 1); /* its optimizer state must go */
        st = thaw_checkpoint_load_into(into, path, &err);
        CHECK_MSG(st == THAW_OK, "%s: load_into: %s", tag, err.msg);
        CHECK(into->cfg.seed == c2.seed);
        check_same_state("load_into", m, into, with_opt);
        check_same_predictions("load_into", m, into);

        /* Continuing training gives the same result in both (without dropout:
         * its random stream is not stored and restarts from the seed). */
        if (with_opt && cfg->dropout == 0.0f) {
            train(m, kind, 1);
            train(b, kind, 1);
            check_same_state("after one more step", m, b, true);
            /* put m back to the saved state for the next iteration */
            thaw_model_free(m);
            m = NULL;
            CHECK(thaw_checkpoint_load(&m, path, &err) == THAW_OK);
            if (!m) exit(99);
        }
        thaw_model_free(into);
        thaw_model_free(b);
    }
    thaw_model_free(m);
}

static void test_roundtrips(void)
{
    thaw_model_config cfg;
    cfg_small(&cfg, "resnet8", 16, 3, 10);
    cfg.head_hidden = 12;
    cfg.dropout = 0.25f;
    cfg.seed = 3;
    thaw_model_config_set_standardize(&cfg, 120.5f, 64.25f);
    roundtrip("resnet8", &cfg, THAW_OPT_SGD);

    cfg_small(&cfg, "resnet50", 32, 3, 5);
    cfg.width = 4;
    cfg.seed = 11;
    thaw_model_config_set_caffe(&cfg);
    roundtrip("resnet50w4", &cfg, THAW_OPT_ADAM);

    /* A model never trained: with_optimizer writes zero step counts only. */
    cfg_small(&cfg, "resnet8", 8, 1, 2);
    cfg.pooling_avg = true;
    cfg.bn_eps = 1e-3f;
    cfg.seed = 0xfedcba9876543210ull;
    thaw_model *m = make(&cfg);
    thaw_error err;
    CHECK(thaw_checkpoint_save(m, tpath("fresh.thaw"), true, &err) == THAW_OK);
    thaw_model *b = NULL;
    CHECK(thaw_checkpoint_load(&b, tpath("fresh.thaw"), &err) == THAW_OK);
    if (b) {
        CHECK(cfg_equal(&m->cfg, &b->cfg));
        check_same_state("fresh", m, b, true);
    }
    thaw_model_free(b);

    /* load_into a model of another architecture: refused, model unchanged. */
    thaw_model_config c2 = cfg;
    c2.width = 8;
    thaw_model *other = make(&c2);
    float *before = thaw_test_alloc(other->n_floats);
    memcpy(before, other->param_mem, other->n_floats * sizeof(float));
    CHECK(thaw_checkpoint_load_into(other, tpath("fresh.thaw"), &err) == THAW_ERR_SHAPE);
    CHECK_MSG(strstr(err.msg, "width") && strstr(err.msg, "fresh.thaw"), "%s", err.msg);
    CHECK(memcmp(before, other->param_mem, other->n_floats * sizeof(float)) == 0);
    thaw_model_free(other);
    free(before);
    thaw_model_free(m);
}

/* ------------------------------------------------------------- damage */

/* A small model with every kind of tensor (Adam state, a hidden layer). */
static unsigned char *small_file(size_t *n, const char *name)
{
    thaw_model_config cfg;
    cfg_small(&cfg, "resnet8", 8, 1, 3);
    cfg.width = 4;
    cfg.head_hidden = 5;
    thaw_model *m = make(&cfg);
    train(m, THAW_OPT_ADAM, 1);
    thaw_error err;
    CHECK_MSG(thaw_checkpoint_save(m, tpath(name), true, &err) == THAW_OK, "%s", err.msg);
    thaw_model_free(m);
    return read_all(tpath(name), n);
}

static void test_truncation_and_flips(void)
{
    size_t n;
    unsigned char *good = small_file(&n, "small.thaw");
    unsigned char *b = malloc(n);
    const char *path = tpath("damaged.thaw");
    const uint64_t dir_off = rd64(good + 40), dir_end = dir_off + 168 * (uint64_t)rd32(good + 12);
    int cases = 0;
    printf("small checkpoint: %zu bytes, directory %llu..%llu\n", n, (unsigned long long)dir_off,
           (unsigned long long)dir_end);

    /* Truncated: every length for the first 1024 bytes, a stride, the last 128. */
    for (size_t len = 0; len < n; len += len < 1024 || len + 128 >= n ? 1 : 127) {
        write_all(path, good, len);
        expect_fail("truncated", path, THAW_ERR_FORMAT, NULL);
        cases++;
    }
    /* One byte changed: every byte of the first 1024, a stride, the last 16. */
    for (size_t off = 0; off < n; off += off < 1024 || off + 16 >= n ? 1 : 29) {
        memcpy(b, good, n);
        b[off] ^= off & 1 ? 0xff : (unsigned char)(1u << (off % 8));
        write_all(path, b, n);
        expect_fail("flipped", path, THAW_OK, NULL);
        cases++;
    }
    /* Appended bytes. */
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, good, n);
    longer[n] = 0;
    write_all(path, longer, n + 1);
    expect_fail("appended", path, THAW_ERR_FORMAT, "appended");
    free(longer);

    /* Changed and the CRC fixed, to reach the deeper checks: the header and
     * the directory must always be refused; the config text, padding and
     * data may happen to stay valid, but never crash or leak. */
    int refused = 0, accepted = 0;
    for (size_t off = 0; off + 4 < n; off += off < dir_end ? 5 : 61) {
        memcpy(b, good, n);
        b[off] ^= off & 1 ? 0xff : (unsigned char)(1u << (off % 8));
        fix_crc(b, n);
        write_all(path, b, n);
        thaw_model *m = NULL;
        thaw_error err;
        thaw_status st = thaw_checkpoint_load(&m, path, &err);
        if (st == THAW_OK) {
            accepted++;
            CHECK_MSG(m != NULL, "crc-fixed flip at %zu: OK without a model", off);
            thaw_model_free(m);
        } else {
            refused++;
            CHECK_MSG(m == NULL && strstr(err.msg, path), "crc-fixed flip at %zu: %s", off,
                      err.msg);
        }
        if (off < 64 || (off >= dir_off && off < dir_end))
            CHECK_MSG(st != THAW_OK, "crc-fixed flip at %zu (header/directory) was accepted", off);
        cases++;
    }
    printf("damage: %d cases; CRC-fixed flips: %d refused, %d accepted\n", cases, refused,
           accepted);
    free(b);
    free(good);
}

/* Rebuilds the file with another config text, shifting the rest. */
static unsigned char *with_config(const unsigned char *f, size_t n, const char *text, size_t *out_n)
{
    uint32_t count = rd32(f + 12);
    uint64_t dir_off = rd64(f + 40);
    uint64_t data_start = UINT64_MAX;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t o = rd64(f + dir_off + 168 * (size_t)i + 152);
        if (o < data_start) data_start = o;
    }
    size_t len = strlen(text);
    uint64_t nd = (64 + len + 7) / 8 * 8;
    uint64_t nds = (nd + 168 * (uint64_t)count + 63) / 64 * 64;
    int64_t delta = (int64_t)nds - (int64_t)data_start;
    size_t m = (size_t)((int64_t)n + delta);
    unsigned char *b = calloc(m, 1);
    memcpy(b, f, 64);
    wr64(b + 16, m);
    wr64(b + 32, len);
    wr64(b + 40, nd);
    memcpy(b + 64, text, len);
    for (uint32_t i = 0; i < count; i++) {
        unsigned char *e = b + nd + 168 * (size_t)i;
        memcpy(e, f + dir_off + 168 * (size_t)i, 168);
        wr64(e + 152, (uint64_t)((int64_t)rd64(e + 152) + delta));
    }
    memcpy(b + nds, f + data_start, n - data_start);
    fix_crc(b, m);
    *out_n = m;
    return b;
}

/* The config text of f with `from` replaced by `to` (first occurrence). */
static void config_case(const char *what, const unsigned char *f, size_t n, const char *from,
                        const char *to, thaw_status st, const char *needle)
{
    char text[4096];
    size_t len = (size_t)rd64(f + 32);
    memcpy(text, f + rd64(f + 24), len);
    text[len] = '\0';
    char edited[4096];
    char *at = strstr(text, from);
    CHECK_MSG(at != NULL, "%s: '%s' not in the config", what, from);
    if (!at) return;
    snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    size_t m;
    unsigned char *b = with_config(f, n, edited, &m);
    const char *path = tpath("config.thaw");
    write_all(path, b, m);
    if (st == THAW_OK) {
        thaw_model *model = NULL;
        thaw_error err;
        CHECK_MSG(thaw_checkpoint_load(&model, path, &err) == THAW_OK, "%s: %s", what, err.msg);
        thaw_model_free(model);
    } else {
        expect_fail(what, path, st, needle);
    }
    free(b);
}

static void test_config_errors(void)
{
    size_t n;
    unsigned char *f = small_file(&n, "cfgbase.thaw");
    const thaw_status F = THAW_ERR_FORMAT;
    config_case("identity", f, n, "arch", "arch", THAW_OK, NULL);
    config_case("x- key", f, n, "seed", "x-note = anything at all = 3\n# comment\n\nseed", THAW_OK,
                NULL);
    config_case("CRLF and spaces", f, n, "classes = 3\n", "  classes\t=  3 \r\n", THAW_OK, NULL);
    config_case("unknown key", f, n, "classes", "clazzes", F, "unknown key 'clazzes'");
    config_case("missing key", f, n, "seed = 1\n", "", F, "key 'seed' is missing");
    config_case("duplicate key", f, n, "in_w", "in_h", F, "'in_h' appears twice");
    config_case("no equals", f, n, "seed = 1", "seed 1", F, "expected 'key = value'");
    config_case("bad bool", f, n, "pooling_avg = false", "pooling_avg = fals3", F,
                "pooling_avg = 'fals3' is not true or false");
    config_case("bad int", f, n, "in_h = 8", "in_h = 8x", F, "in_h = '8x'");
    config_case("int out of range", f, n, "in_h = 8", "in_h = 99999", F, "in_h");
    config_case("negative seed", f, n, "seed = 1", "seed = -1", F, "seed");
    config_case("bad float", f, n, "dropout = 0", "dropout = zero", F, "dropout");
    config_case("nan float", f, n, "dropout = 0", "dropout = nan", F, "dropout");
    config_case("3 means", f, n, "input_mean = 0 0 0 0", "input_mean = 0 0 0", F, "input_mean");
    config_case("5 means", f, n, "input_mean = 0 0 0 0", "input_mean = 0 0 0 0 0", F, "input_mean");
    config_case("unknown arch", f, n, "arch = resnet8", "arch = resnet9", F,
                "unknown architecture 'resnet9'");
    config_case("long arch", f, n, "arch = resnet8", "arch = resnet8resnet8resnet8", F, "arch");
    config_case("bad dropout", f, n, "dropout = 0", "dropout = 1.5", F, "dropout");
    config_case("shape mismatch", f, n, "in_c = 1", "in_c = 2", THAW_ERR_SHAPE,
                "tensor conv1_conv/kernel: shape (3, 3, 1, 4) but the model has (3, 3, 2, 4)");
    config_case("wider model", f, n, "width = 4", "width = 8", THAW_ERR_SHAPE, "shape");
    config_case("huge model", f, n, "arch = resnet8", "arch = resnet152", F, "more than the file");
    config_case("huge width", f, n, "width = 4", "width = 4096", F, "more than the file");
    config_case("other head", f, n, "head_hidden = 5", "head_hidden = 0", F,
                "tensor head_dense/kernel: the resnet8 model has no such tensor");
    free(f);
}

static void patch_case(const char *what, const unsigned char *good, size_t n,
                       void (*edit)(unsigned char *b, size_t n), thaw_status st, const char *needle)
{
    unsigned char *b = malloc(n);
    memcpy(b, good, n);
    edit(b, n);
    fix_crc(b, n);
    const char *path = tpath("patched.thaw");
    write_all(path, b, n);
    expect_fail(what, path, st, needle);
    free(b);
}

static void ed_magic(unsigned char *b, size_t n)
{
    b[3] = 'X';
}
static void ed_version(unsigned char *b, size_t n)
{
    wr32(b + 8, 2);
}
static void ed_reserved(unsigned char *b, size_t n)
{
    b[60] = 1;
}
static void ed_count_zero(unsigned char *b, size_t n)
{
    wr32(b + 12, 0);
}
static void ed_count_huge(unsigned char *b, size_t n)
{
    wr32(b + 12, 0xffffffffu);
}
static void ed_cfg_len(unsigned char *b, size_t n)
{
    wr64(b + 32, (uint64_t)1 << 62);
}
static void ed_dir_off(unsigned char *b, size_t n)
{
    wr64(b + 40, n - 100);
}
static void ed_dup(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "conv1_bn/beta");
    memcpy(e, "conv1_bn/gamma", 15);
}
static void ed_unexpected(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "conv1_bn/beta");
    memcpy(e, "conv1_bn/bet4", 14);
}
/* Removes a directory entry (the last one takes its place). */
static void drop_entry(unsigned char *b, const char *name)
{
    uint32_t count = rd32(b + 12);
    unsigned char *last = b + rd64(b + 40) + 168 * (size_t)(count - 1);
    memmove(find_entry(b, name), last, 168);
    wr32(b + 12, count - 1);
}
static void ed_missing(unsigned char *b, size_t n)
{
    drop_entry(b, "conv1_bn/moving_variance");
}
static void ed_missing_opt(unsigned char *b, size_t n)
{
    drop_entry(b, "opt_v/predictions/bias");
}
static void ed_unknown_prefix(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "opt_v/predictions/bias");
    memcpy(e, "opt_w", 5);
}
static void ed_state_opt(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "opt_m/conv1_bn/gamma");
    memcpy(e, "opt_m/conv1_bn/moving_mean", 27);
}
static void ed_shape(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "conv1_bn/gamma");
    wr32(e + 136, 2);
    wr64(e + 160, 8);
}
static void ed_length(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "conv1_bn/gamma");
    wr64(e + 160, rd64(e + 160) + 4);
}
static void ed_dtype(unsigned char *b, size_t n)
{
    wr32(find_entry(b, "conv1_bn/gamma") + 128, 3);
}
static void ed_dtype_u32(unsigned char *b, size_t n)
{
    wr32(find_entry(b, "conv1_bn/gamma") + 128, 2);
}
static void ed_ndim(unsigned char *b, size_t n)
{
    wr32(find_entry(b, "conv1_bn/gamma") + 132, 5);
}
static void ed_dims_beyond(unsigned char *b, size_t n)
{
    wr32(find_entry(b, "conv1_bn/gamma") + 148, 1);
}
static void ed_huge_dims(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "conv1_conv/kernel");
    for (int d = 0; d < 4; d++) wr32(e + 136 + 4 * d, 0xffffffffu);
}
static void ed_offset_out(unsigned char *b, size_t n)
{
    wr64(find_entry(b, "conv1_bn/gamma") + 152, (n + 63) / 64 * 64);
}
static void ed_offset_wrap(unsigned char *b, size_t n)
{
    wr64(find_entry(b, "conv1_bn/gamma") + 152, UINT64_MAX - 63);
}
static void ed_offset_misaligned(unsigned char *b, size_t n)
{
    unsigned char *e = find_entry(b, "conv1_bn/gamma");
    wr64(e + 152, rd64(e + 152) + 4);
}
static void ed_overlap(unsigned char *b, size_t n)
{
    unsigned char *g = find_entry(b, "conv1_bn/gamma"), *be = find_entry(b, "conv1_bn/beta");
    memcpy(be + 152, g + 152, 8);
}
static void ed_overlap_dir(unsigned char *b, size_t n)
{
    wr64(find_entry(b, "conv1_bn/gamma") + 152, rd64(b + 40) / 64 * 64 + 64);
}
static void ed_name_unterminated(unsigned char *b, size_t n)
{
    memset(find_entry(b, "conv1_bn/gamma"), 'a', 128);
}
static void ed_name_garbage(unsigned char *b, size_t n)
{
    find_entry(b, "conv1_bn/gamma")[127] = 'z';
}
static void ed_name_empty(unsigned char *b, size_t n)
{
    find_entry(b, "conv1_bn/gamma")[0] = 0;
}
static void put_value(unsigned char *b, const char *name, size_t index, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    wr32(b + rd64(find_entry(b, name) + 152) + 4 * index, u);
}
static void ed_nan(unsigned char *b, size_t n)
{
    put_value(b, "conv1_conv/kernel", 5, NAN);
}
static void ed_inf_opt(unsigned char *b, size_t n)
{
    put_value(b, "opt_m/predictions/kernel", 2, -INFINITY);
}
static void ed_negvar(unsigned char *b, size_t n)
{
    put_value(b, "conv1_bn/moving_variance", 3, -0.5f);
}
static void ed_neg_opt_v(unsigned char *b, size_t n)
{
    put_value(b, "opt_v/conv1_conv/kernel", 0, -1e-9f);
}
static void ed_config_nul(unsigned char *b, size_t n)
{
    b[rd64(b + 24) + 3] = 0;
}

static void test_crafted_damage(void)
{
    size_t n;
    unsigned char *f = small_file(&n, "crafted.thaw");
    const thaw_status F = THAW_ERR_FORMAT;
    struct {
        const char *what;
        void (*edit)(unsigned char *, size_t);
        thaw_status st;
        const char *needle;
    } cases[] = {
        {"bad magic", ed_magic, F, "bad magic"},
        {"version 2", ed_version, THAW_ERR_UNSUPPORTED, "version 2"},
        {"reserved", ed_reserved, F, "reserved"},
        {"no tensors", ed_count_zero, F, "tensor count 0"},
        {"tensor count", ed_count_huge, F, "tensor count"},
        {"config length", ed_cfg_len, F, "config text length"},
        {"directory offset", ed_dir_off, F, "directory"},
        {"config NUL", ed_config_nul, F, "NUL"},
        {"duplicate", ed_dup, F, "tensor conv1_bn/gamma appears twice"},
        {"unexpected", ed_unexpected, F, "tensor conv1_bn/bet4: the resnet8 model has no such"},
        {"missing", ed_missing, F, "tensor conv1_bn/moving_variance is missing"},
        {"missing opt", ed_missing_opt, F, "tensor opt_v/predictions/bias is missing"},
        {"unknown prefix", ed_unknown_prefix, F, "tensor opt_w/predictions/bias: the resnet8"},
        {"opt of state", ed_state_opt, F, "opt_m/conv1_bn/moving_mean"},
        {"shape", ed_shape, THAW_ERR_SHAPE,
         "tensor conv1_bn/gamma: shape (2) but the model has (4)"},
        {"length", ed_length, F, "tensor conv1_bn/gamma: length 20 bytes"},
        {"dtype", ed_dtype, F, "tensor conv1_bn/gamma: unknown dtype 3"},
        {"dtype u32", ed_dtype_u32, F, "tensor conv1_bn/gamma: dtype uint32, expected float32"},
        {"ndim", ed_ndim, F, "tensor conv1_bn/gamma: 5 dimensions"},
        {"dims beyond ndim", ed_dims_beyond, F, "tensor conv1_bn/gamma: dims beyond"},
        {"huge dims", ed_huge_dims, F, "tensor conv1_conv/kernel: its shape is larger"},
        {"offset outside", ed_offset_out, F, "tensor conv1_bn/gamma: its data"},
        {"offset wraps", ed_offset_wrap, F, "tensor conv1_bn/gamma: its data"},
        {"offset misaligned", ed_offset_misaligned, F, "not a multiple of 64"},
        {"overlap", ed_overlap, F, "overlaps"},
        {"overlap directory", ed_overlap_dir, F, "overlaps"},
        {"name unterminated", ed_name_unterminated, F, "not NUL-terminated"},
        {"name padding", ed_name_garbage, F, "not zero"},
        {"name empty", ed_name_empty, F, "empty"},
        {"NaN", ed_nan, THAW_ERR_NONFINITE, "tensor conv1_conv/kernel: element 5 is not finite"},
        {"inf opt_m", ed_inf_opt, THAW_ERR_NONFINITE, "tensor opt_m/predictions/kernel"},
        {"negative variance", ed_negvar, THAW_ERR_NONFINITE,
         "tensor conv1_bn/moving_variance: element 3 is negative"},
        {"negative opt_v", ed_neg_opt_v, THAW_ERR_NONFINITE, "tensor opt_v/conv1_conv/kernel"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        patch_case(cases[i].what, f, n, cases[i].edit, cases[i].st, cases[i].needle);

    /* A CRC mismatch, a short file, an empty file, another kind of file, a folder. */
    const char *path = tpath("other.thaw");
    f[n / 2] ^= 0x10;
    write_all(path, f, n);
    expect_fail("crc", path, F, "checksum mismatch: file is damaged");
    write_all(path, f, 40);
    expect_fail("short", path, F, "too short");
    write_all(path, f, 0);
    expect_fail("empty", path, F, "too short");
    write_all(path, (const unsigned char *)"\x89HDF\r\n\x1a\n and more bytes", 24);
    expect_fail("not a checkpoint", path, F, "bad magic");
    expect_fail("missing file", tpath("does-not-exist.thaw"), THAW_ERR_IO, "No such file");
    expect_fail("folder", tmpdir, THAW_ERR_IO, "not a regular file");
    free(f);
}

/* ------------------------------------------------------------ failed saves */

static void test_failed_saves(void)
{
    thaw_model_config cfg;
    cfg_small(&cfg, "resnet8", 8, 1, 3);
    thaw_model *m = make(&cfg);
    thaw_error err;

    /* A folder that does not exist. */
    const char *missing = tpath("no/such/folder/x.thaw");
    CHECK(thaw_checkpoint_save(m, missing, true, &err) == THAW_ERR_IO);
    CHECK_MSG(strstr(err.msg, missing) && strstr(err.msg, "No such file"), "%s", err.msg);

    /* The target is a non-empty folder: the temporary file is written, the
     * rename fails (also as root), and nothing is left behind. */
    mkdir(tpath("busy.thaw"), 0755);
    write_all(tpath("busy.thaw/keep"), (const unsigned char *)"k", 1);
    CHECK(thaw_checkpoint_save(m, tpath("busy.thaw"), false, &err) == THAW_ERR_IO);
    CHECK_MSG(strstr(err.msg, "busy.thaw") && strstr(err.msg, "cannot replace"), "%s", err.msg);
    CHECK(count_prefixed("busy.thaw.") == 0);
    struct stat sb;
    CHECK(stat(tpath("busy.thaw/keep"), &sb) == 0);

    /* A good file, then saves that fail: each leaves it byte-identical. */
    const char *path = tpath("keep.thaw");
    CHECK(thaw_checkpoint_save(m, path, false, &err) == THAW_OK);
    size_t n0;
    unsigned char *good = read_all(path, &n0);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) != 0600); /* not mkstemp's mode */
    chmod(path, 0640);
    thaw_model_config c2 = cfg;
    c2.seed = 99;
    thaw_model *m2 = make(&c2);

    /* The disk fills up: a file-size limit makes the writes fail (EFBIG). */
    struct rlimit old;
    getrlimit(RLIMIT_FSIZE, &old);
    struct rlimit lim = old;
    lim.rlim_cur = 8192;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        thaw_status st = thaw_checkpoint_save(m2, path, true, &err);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_MSG(st == THAW_ERR_IO, "save past the size limit: %s", thaw_status_to_string(st));
        CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, "too large"), "%s", err.msg);
    } else {
        printf("SKIP file-size limit: setrlimit failed\n");
    }
    signal(SIGXFSZ, prev);

    /* A model that cannot be saved: refused before anything is written. */
    m2->param_mem[m2->params[0].offset + 1] = NAN;
    CHECK(thaw_checkpoint_save(m2, path, false, &err) == THAW_ERR_NONFINITE);
    CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, "conv1_conv/kernel"), "%s", err.msg);

    /* A read-only folder (only meaningful when not root). */
    if (geteuid() != 0) {
        chmod(tmpdir, 0555);
        m2->param_mem[m2->params[0].offset + 1] = 0.0f;
        CHECK(thaw_checkpoint_save(m2, path, false, &err) == THAW_ERR_IO);
        CHECK_MSG(strstr(err.msg, path), "%s", err.msg);
        chmod(tmpdir, 0700);
    } else {
        printf("SKIP read-only folder: running as root (the rename and size-limit cases "
               "cover failed saves)\n");
    }

    size_t n1;
    unsigned char *now = read_all(path, &n1);
    CHECK_MSG(n0 == n1 && memcmp(good, now, n0) == 0, "a failed save changed the previous file");
    CHECK(count_prefixed("keep.thaw.") == 0);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
    thaw_model *b = NULL;
    CHECK(thaw_checkpoint_load(&b, path, &err) == THAW_OK);
    if (b) check_same_state("after failed saves", m, b, false);
    thaw_model_free(b);

    /* A successful save over it keeps its permissions. */
    m2->param_mem[m2->params[0].offset + 1] = 0.0f;
    CHECK(thaw_checkpoint_save(m2, path, true, &err) == THAW_OK);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
    CHECK(count_prefixed("keep.thaw.") == 0);

    free(good);
    free(now);
    thaw_model_free(m2);
    thaw_model_free(m);
}

/* ---------------------------------------------------------------- locale */

static void test_locale(void)
{
    const char *names[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE.utf8", "fr_FR.utf8"};
    const char *got = NULL;
    for (size_t i = 0; i < 4 && !got; i++) got = setlocale(LC_NUMERIC, names[i]);
    if (!got) {
        printf("SKIP decimal-comma locale: none installed\n");
        return;
    }
    thaw_model_config cfg;
    cfg_small(&cfg, "resnet8", 8, 3, 2);
    thaw_model_config_set_caffe(&cfg);
    cfg.dropout = 0.5f;
    thaw_model *m = make(&cfg), *b = NULL;
    thaw_error err;
    CHECK(thaw_checkpoint_save(m, tpath("locale.thaw"), false, &err) == THAW_OK);
    CHECK_MSG(thaw_checkpoint_load(&b, tpath("locale.thaw"), &err) == THAW_OK, "%s", err.msg);
    if (b) CHECK(cfg_equal(&m->cfg, &b->cfg));
    thaw_model_free(b);
    thaw_model_free(m);
    setlocale(LC_NUMERIC, "C");
}

/* ------------------------------------------------------ the Python script */

static const char *find_python(void)
{
    static char buf[1024];
    if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/python3", (int)len, path);
        if (len && access(buf, X_OK) == 0) return buf;
        path = end ? end + 1 : NULL;
    }
    return NULL;
}

static int run(const char *const argv[])
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* tests/fixtures/thaw_checkpoint.py fake_value(). */
static float fake_value(const char *name, size_t i)
{
    size_t k = (i * 31 + strlen(name) * 7) % 101;
    bool positive =
        (strlen(name) > 16 && strcmp(name + strlen(name) - 16, "/moving_variance") == 0) ||
        strncmp(name, "opt_v/", 6) == 0;
    return positive ? (float)(k + 1) / 64.0f : ((float)k - 50.0f) / 128.0f;
}

static void check_fake(const char *tname, const float *d, size_t count)
{
    size_t bad = 0;
    for (size_t i = 0; i < count; i++) bad += d[i] != fake_value(tname, i);
    CHECK_MSG(bad == 0, "tensor %s: %zu values differ from the script's", tname, bad);
}

static void test_python(void)
{
    const char *py = find_python();
    const char *fx = getenv("THAW_FIXTURES");
    if (!py || !fx) {
        printf("SKIP Python reference script: %s\n",
               py ? "THAW_FIXTURES is not set" : "no python3 found");
        return;
    }
    char script[1024];
    snprintf(script, sizeof script, "%s/thaw_checkpoint.py", fx);
    printf("Python reference: %s %s\n", py, script);
    thaw_error err;

    /* The script writes resnet8 checkpoints; Thaw loads them. */
    for (int with_opt = 0; with_opt <= 1; with_opt++) {
        const char *out = tpath(with_opt ? "py-opt.thaw" : "py.thaw");
        const char *argv[] = {py, script, "resnet8", out, with_opt ? "--optimizer" : NULL, NULL};
        int rc = run(argv);
        CHECK_MSG(rc == 0, "thaw_checkpoint.py resnet8 exited with %d", rc);
        thaw_model *m = NULL;
        thaw_status st = thaw_checkpoint_load(&m, out, &err);
        CHECK_MSG(st == THAW_OK, "loading the script's checkpoint: %s", err.msg);
        if (!m) continue;
        CHECK(strcmp(m->cfg.arch, "resnet8") == 0 && m->cfg.in_h == 32 && m->cfg.in_c == 3 &&
              m->cfg.width == 8 && m->cfg.classes == 10 && m->cfg.seed == 5);
        CHECK(m->cfg.bn_eps == 0.001f && m->cfg.input_mean[0] == 127.5f &&
              m->cfg.input_scale[2] == 0.0078125f && m->cfg.input_scale[3] == 1.0f);
        CHECK(m->steps == (with_opt ? 7u : 0u));
        CHECK(m->layers[2].eps == 0.001f); /* conv1_bn got the file's epsilon */
        for (int i = 0; i < m->n_params; i++) {
            const thaw_param *p = &m->params[i];
            check_fake(p->name, thaw_param_data(m, p), p->count);
            if (!with_opt || p->is_state) continue;
            char name[160];
            snprintf(name, sizeof name, "opt_m/%s", p->name);
            check_fake(name, m->opt_m + p->offset, p->count);
            snprintf(name, sizeof name, "opt_v/%s", p->name);
            check_fake(name, m->opt_v + p->offset, p->count);
            CHECK(m->opt_steps[i] == strlen(p->name));
        }
        if (!with_opt) CHECK(!m->opt_m && !m->opt_v);
        thaw_model_free(m);
    }

    /* Thaw writes; the script reads it and writes it again: the same bytes. */
    thaw_model_config cfg;
    cfg_small(&cfg, "resnet8", 8, 3, 4);
    thaw_model_config_set_caffe(&cfg);
    cfg.head_hidden = 6;
    cfg.dropout = 0.1f;
    thaw_model *m = make(&cfg);
    train(m, THAW_OPT_ADAM, 1);
    CHECK(thaw_checkpoint_save(m, tpath("c.thaw"), true, &err) == THAW_OK);
    const char *argv[] = {py, script, "copy", tpath("c.thaw"), tpath("c-copy.thaw"), NULL};
    int rc = run(argv);
    CHECK_MSG(rc == 0, "thaw_checkpoint.py copy exited with %d", rc);
    size_t n1, n2;
    unsigned char *a = read_all(tpath("c.thaw"), &n1);
    unsigned char *b = read_all(tpath("c-copy.thaw"), &n2);
    CHECK_MSG(b && n1 == n2 && memcmp(a, b, n1) == 0,
              "the script's copy differs from Thaw's file (%zu vs %zu bytes)", n1, n2);
    thaw_model *c = NULL;
    CHECK_MSG(thaw_checkpoint_load(&c, tpath("c-copy.thaw"), &err) == THAW_OK, "%s", err.msg);
    if (c) check_same_state("python copy", m, c, true);
    thaw_model_free(c);
    free(a);
    free(b);
    thaw_model_free(m);

    /* The script rejects a damaged file too. */
    const char *dump[] = {py, script, "dump", tpath("damaged.thaw"), NULL};
    write_all(tpath("damaged.thaw"), (const unsigned char *)"THAWCKPT", 8);
    printf("(an error message from the script is expected here)\n");
    CHECK(run(dump) == 1);
}

/* ------------------------------------------------------------------ sizes */

static void report_sizes(void)
{
    thaw_model_config cfg;
    thaw_model_config_default(&cfg); /* resnet20, 28x28x1, 10 classes */
    thaw_model *m = make(&cfg);
    train(m, THAW_OPT_ADAM, 1);
    thaw_error err;
    struct stat a, b;
    CHECK(thaw_checkpoint_save(m, tpath("r20.thaw"), false, &err) == THAW_OK);
    CHECK(thaw_checkpoint_save(m, tpath("r20-opt.thaw"), true, &err) == THAW_OK);
    if (stat(tpath("r20.thaw"), &a) == 0 && stat(tpath("r20-opt.thaw"), &b) == 0)
        printf("resnet20 (%d tensors, %zu floats): %lld bytes, with Adam state %lld bytes\n",
               m->n_params, m->n_floats, (long long)a.st_size, (long long)b.st_size);
    thaw_model_free(m);
}

int main(void)
{
    /* sizeof changes when a field is added: the checkpoint must learn it. */
    CHECK_MSG(sizeof(thaw_model_config) == 104,
              "thaw_model_config changed (%zu bytes): update io/checkpoint.c's key table, "
              "CHECKPOINT.md and thaw_checkpoint.py, then this number",
              sizeof(thaw_model_config));
    snprintf(tmpdir, sizeof tmpdir, "%s/thaw-ckpt-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 99;
    }
    struct {
        const char *name;
        void (*fn)(void);
    } parts[] = {
        {"round trips", test_roundtrips},
        {"truncation and flips", test_truncation_and_flips},
        {"config errors", test_config_errors},
        {"crafted damage", test_crafted_damage},
        {"failed saves", test_failed_saves},
        {"locale", test_locale},
        {"python", test_python},
        {"sizes", report_sizes},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        parts[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("-- %s: %.2f s\n", parts[i].name,
               (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    }
    rm_tree(tmpdir);
    return thaw_test_finish();
}
