/* Every layer kernel through the shared finite-difference checker
 * (gradcheck.h), inputs and parameters: BN (training and inference mode),
 * dense, max pool, GAP, ReLU, add, pad, dropout (fixed mask), softmax
 * cross-entropy and the convolutions of both backends (stride 1 and 2 with
 * Keras "same" padding, 1x1, with bias); then a small conv-BN-ReLU-dropout-
 * dense-xent network chained as a model would chain the kernels, and a check
 * that the checker catches a wrong and a non-accumulating backward.
 *
 * Tolerances (thaw_gradcheck_defaults unless a case says otherwise): central
 * differences with h = 1e-2 * max(|x|, 1) on float32 kernels, the loss summed
 * in double; an element passes when
 *   |num - ana| / max(|num|, |ana|, 1e-2 * max|ana| of the tensor) <= 1e-2,
 * failures retried once with h/10 before the kink test. Observed worst errors
 * are 1e-5..7e-3. The network adds atol 1e-3 for the conv bias, whose
 * gradient is exactly 0 in front of a training-mode BN. Shapes are small
 * (tens to hundreds of outputs per perturbed element) so that float rounding
 * in the forward pass stays well below that: the float noise in a slope is
 * about 6e-8 * sqrt(#outputs touched) / h ~ 1e-5. Larger tensors are checked
 * on a random subset (max_elems). Kinks (ReLU at 0, max-pool ties) are
 * skipped by the checker and counted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/backend.h"
#include "kernels/batchnorm.h"
#include "kernels/conv2d.h"
#include "kernels/dense.h"
#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "kernels/pool.h"
#include "testutil.h"

static thaw_rng rng;

static float *randn(size_t n, float std)
{
    float *p = thaw_test_alloc(n);
    thaw_test_fill_normal(p, n, 0.0f, std, &rng);
    return p;
}

#define NT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ========================================================================= */
/* BatchNorm                                                                 */
/* ========================================================================= */

typedef struct bn_ctx {
    size_t m;
    int c;
    float eps;
    float *x, *gamma, *beta; /* gamma/beta may be NULL */
    float *dx, *dgamma, *dbeta;
    float *mean, *var, *invstd;      /* saved by the training forward */
    float *moving_mean, *moving_var; /* inference mode */
} bn_ctx;

static void bn_train_fwd(void *p, float *out)
{
    bn_ctx *b = p;
    thaw_bn_forward_train(out, b->mean, b->var, b->invstd, b->x, b->gamma, b->beta, b->m, b->c,
                          b->eps);
}

static void bn_train_bwd(void *p, const float *dout)
{
    bn_ctx *b = p;
    thaw_bn_backward_train(b->dx, b->dgamma, b->dbeta, dout, b->x, b->mean, b->invstd, b->gamma,
                           b->m, b->c);
}

static void bn_infer_fwd(void *p, float *out)
{
    bn_ctx *b = p;
    thaw_bn_forward_infer(out, b->x, b->gamma, b->beta, b->moving_mean, b->moving_var, b->m, b->c,
                          b->eps);
}

static void bn_infer_bwd(void *p, const float *dout)
{
    bn_ctx *b = p;
    thaw_bn_backward_infer(b->dx, b->dgamma, b->dbeta, dout, b->x, b->gamma, b->moving_mean,
                           b->moving_var, b->m, b->c, b->eps);
}

static void bn_case(bool train, size_t m, int c, bool scale, bool center, size_t max_elems)
{
    bn_ctx b = {.m = m, .c = c, .eps = 1e-3f};
    b.x = randn(m * c, 1.0f);
    for (size_t i = 0; i < m * c; i++) b.x[i] += (float)(i % (size_t)c % 5) * 0.25f; /* ch means */
    b.gamma = scale ? randn(c, 1.0f) : NULL;
    b.beta = center ? randn(c, 1.0f) : NULL;
    b.dx = thaw_test_alloc(m * c);
    b.dgamma = thaw_test_alloc(c);
    b.dbeta = thaw_test_alloc(c);
    b.mean = thaw_test_alloc(c);
    b.var = thaw_test_alloc(c);
    b.invstd = thaw_test_alloc(c);
    b.moving_mean = randn(c, 0.5f);
    b.moving_var = thaw_test_alloc(c);
    thaw_test_fill_uniform(b.moving_var, c, 0.3f, 2.0f, &rng);

    thaw_gradcheck_tensor t[3] = {{"x", b.x, b.dx, m * c}};
    int nt = 1;
    if (scale) t[nt++] = (thaw_gradcheck_tensor){"gamma", b.gamma, b.dgamma, (size_t)c};
    if (center) t[nt++] = (thaw_gradcheck_tensor){"beta", b.beta, b.dbeta, (size_t)c};
    thaw_gradcheck_fn fn = {
        .ctx = &b,
        .out_count = m * c,
        .forward = train ? bn_train_fwd : bn_infer_fwd,
        .backward = train ? bn_train_bwd : bn_infer_bwd,
    };
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    o.max_elems = max_elems;
    char what[96];
    snprintf(what, sizeof what, "bn %s m=%zu c=%d scale=%d center=%d", train ? "train" : "infer", m,
             c, scale, center);
    thaw_gradcheck(what, &fn, t, nt, &o, NULL);

    free(b.x), free(b.gamma), free(b.beta), free(b.dx), free(b.dgamma), free(b.dbeta);
    free(b.mean), free(b.var), free(b.invstd), free(b.moving_mean), free(b.moving_var);
}

static void test_bn(void)
{
    bn_case(true, 18, 5, true, true, 0);    /* (3,2,3,5) */
    bn_case(true, 12, 11, true, true, 0);   /* 8-block + tail */
    bn_case(true, 7, 67, true, true, 200);  /* 64-block + tail */
    bn_case(true, 3, 3, true, true, 0);     /* three rows */
    bn_case(true, 32, 16, true, true, 150); /* (2,4,4,16) */
    bn_case(true, 10, 4, false, false, 0);  /* scale=False, center=False */
    bn_case(false, 18, 5, true, true, 0);
    bn_case(false, 6, 70, true, true, 200);
    bn_case(false, 9, 3, false, true, 0);
}

/* ========================================================================= */
/* Dense                                                                     */
/* ========================================================================= */

typedef struct dense_ctx {
    int n, in, out;
    float *x, *kernel, *bias, *dx, *dkernel, *dbias;
    const thaw_backend *be;
} dense_ctx;

static void dense_fwd(void *p, float *out)
{
    dense_ctx *d = p;
    thaw_dense_forward(out, d->x, d->kernel, d->bias, d->n, d->in, d->out, d->be);
}

static void dense_bwd(void *p, const float *dout)
{
    dense_ctx *d = p;
    thaw_dense_backward_data(d->dx, dout, d->kernel, d->n, d->in, d->out, d->be);
    thaw_dense_backward_weights(d->dkernel, d->bias ? d->dbias : NULL, dout, d->x, d->n, d->in,
                                d->out, d->be);
}

static void dense_case(const thaw_backend *be, int n, int in, int out, bool use_bias)
{
    dense_ctx d = {.n = n, .in = in, .out = out, .be = be};
    d.x = randn((size_t)n * in, 1.0f);
    d.kernel = randn((size_t)in * out, 0.5f);
    d.bias = use_bias ? randn(out, 1.0f) : NULL;
    d.dx = thaw_test_alloc((size_t)n * in);
    d.dkernel = thaw_test_alloc((size_t)in * out);
    d.dbias = thaw_test_alloc(out);
    thaw_gradcheck_tensor t[] = {
        {"x", d.x, d.dx, (size_t)n * in},
        {"kernel", d.kernel, d.dkernel, (size_t)in * out},
        {"bias", d.bias, d.dbias, (size_t)out},
    };
    thaw_gradcheck_fn fn = {&d, (size_t)n * out, dense_fwd, dense_bwd};
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    o.max_elems = 150;
    char what[96];
    snprintf(what, sizeof what, "dense %s n=%d in=%d out=%d", be->name, n, in, out);
    thaw_gradcheck(what, &fn, t, use_bias ? 3 : 2, &o, NULL);
    free(d.x), free(d.kernel), free(d.bias), free(d.dx), free(d.dkernel), free(d.dbias);
}

static void test_dense(void)
{
    dense_case(&thaw_backend_openblas, 4, 7, 5, true);
    dense_case(&thaw_backend_openblas, 1, 3, 1, true);
    dense_case(&thaw_backend_openblas, 3, 33, 10, false);
    dense_case(&thaw_backend_naive, 5, 6, 4, true);
}

/* ========================================================================= */
/* Pooling                                                                   */
/* ========================================================================= */

typedef struct pool_ctx {
    thaw_pool_shape s;
    float *x, *dx;
    int32_t *argmax;
} pool_ctx;

static void maxpool_fwd(void *p, float *out)
{
    pool_ctx *c = p;
    thaw_maxpool_forward(out, c->argmax, c->x, &c->s);
}

static void maxpool_bwd(void *p, const float *dout)
{
    pool_ctx *c = p;
    thaw_maxpool_backward(c->dx, dout, c->argmax, &c->s);
}

/* ties: inputs drawn from {0, 1, 2} so most windows hold tied maxima; every
 * tied element is a kink and must be skipped (and match one side). */
static void maxpool_case(int n, int h, int w, int c, int k, int st, bool ties)
{
    pool_ctx pc;
    CHECK(thaw_pool_shape_init(&pc.s, n, h, w, c, k, k, st, st) == 0);
    size_t nx = (size_t)n * h * w * c, ny = (size_t)n * pc.s.oh * pc.s.ow * c;
    pc.x = randn(nx, 1.0f);
    if (ties)
        for (size_t i = 0; i < nx; i++) pc.x[i] = (float)thaw_rng_below(&rng, 3);
    pc.dx = thaw_test_alloc(nx);
    pc.argmax = calloc(ny, sizeof(int32_t));
    thaw_gradcheck_tensor t[] = {{"x", pc.x, pc.dx, nx}};
    thaw_gradcheck_fn fn = {&pc, ny, maxpool_fwd, maxpool_bwd};
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    if (ties) o.max_skip_frac = 1.0;
    char what[96];
    snprintf(what, sizeof what, "maxpool (%d,%d,%d,%d) k=%d s=%d%s", n, h, w, c, k, st,
             ties ? " ties" : "");
    thaw_gradcheck_stats stats;
    thaw_gradcheck(what, &fn, t, 1, &o, &stats);
    if (ties) {
        /* an element tied in two overlapping windows can match neither side */
        CHECK_MSG(stats.skipped > 0 && stats.one_sided > 0,
                  "maxpool ties: %zu skipped, %zu matched one side", stats.skipped,
                  stats.one_sided);
    }
    free(pc.x), free(pc.dx), free(pc.argmax);
}

typedef struct gap_ctx {
    int n, h, w, c;
    float *x, *dx;
} gap_ctx;

static void gap_fwd(void *p, float *out)
{
    gap_ctx *g = p;
    thaw_gap_forward(out, g->x, g->n, g->h, g->w, g->c);
}

static void gap_bwd(void *p, const float *dout)
{
    gap_ctx *g = p;
    thaw_gap_backward(g->dx, dout, g->n, g->h, g->w, g->c);
}

static void test_pool(void)
{
    maxpool_case(2, 5, 5, 3, 3, 2, false);
    maxpool_case(1, 4, 6, 2, 2, 1, false);
    maxpool_case(2, 7, 7, 4, 3, 2, true);

    gap_ctx g = {.n = 2, .h = 3, .w = 4, .c = 5};
    size_t nx = (size_t)g.n * g.h * g.w * g.c;
    g.x = randn(nx, 1.0f);
    g.dx = thaw_test_alloc(nx);
    thaw_gradcheck_tensor t[] = {{"x", g.x, g.dx, nx}};
    thaw_gradcheck_fn fn = {&g, (size_t)g.n * g.c, gap_fwd, gap_bwd};
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    thaw_gradcheck("gap (2,3,4,5)", &fn, t, 1, &o, NULL);
    free(g.x), free(g.dx);
}

/* ========================================================================= */
/* Element-wise                                                              */
/* ========================================================================= */

typedef struct ew_ctx {
    size_t count;
    float *a, *b, *da, *db;
    float *y;    /* relu: the forward output, read by the backward */
    float *mask; /* dropout */
    float rate;
    uint64_t seed;
    int n, h, w, c, pt, pb, pl, pr; /* pad */
} ew_ctx;

static void relu_fwd(void *p, float *out)
{
    ew_ctx *e = p;
    thaw_relu_forward(out, e->a, e->count);
    memcpy(e->y, out, e->count * sizeof(float));
}

static void relu_bwd(void *p, const float *dout)
{
    ew_ctx *e = p;
    thaw_relu_backward(e->da, dout, e->y, e->count);
}

static void add_fwd(void *p, float *out)
{
    ew_ctx *e = p;
    thaw_add_forward(out, e->a, e->b, e->count);
}

static void add_bwd(void *p, const float *dout)
{
    ew_ctx *e = p;
    thaw_accumulate(e->da, dout, e->count);
    thaw_accumulate(e->db, dout, e->count);
}

/* the mask must be the same for every evaluation: re-seed identically */
static void dropout_fwd(void *p, float *out)
{
    ew_ctx *e = p;
    thaw_rng r;
    thaw_rng_seed(&r, e->seed, 1);
    thaw_dropout_forward(out, e->mask, e->a, e->count, e->rate, &r);
}

static void dropout_bwd(void *p, const float *dout)
{
    ew_ctx *e = p;
    thaw_dropout_backward(e->da, dout, e->mask, e->count);
}

static void pad_fwd(void *p, float *out)
{
    ew_ctx *e = p;
    thaw_pad_forward(out, e->a, e->n, e->h, e->w, e->c, e->pt, e->pb, e->pl, e->pr);
}

static void pad_bwd(void *p, const float *dout)
{
    ew_ctx *e = p;
    thaw_pad_backward(e->da, dout, e->n, e->h, e->w, e->c, e->pt, e->pb, e->pl, e->pr);
}

static void test_elementwise(void)
{
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    const size_t n = 53;

    /* ReLU, with exact zeros and values within the FD step of 0 (kinks) */
    ew_ctx e = {.count = n};
    e.a = randn(n, 1.0f);
    e.a[3] = 0.0f;
    e.a[10] = 0.0f;
    e.a[20] = 4e-4f;
    e.a[30] = -2e-4f;
    e.da = thaw_test_alloc(n);
    e.y = thaw_test_alloc(n);
    thaw_gradcheck_tensor tr[] = {{"x", e.a, e.da, n}};
    thaw_gradcheck_fn relu = {&e, n, relu_fwd, relu_bwd};
    thaw_gradcheck_stats st;
    thaw_gradcheck("relu", &relu, tr, 1, &o, &st);
    CHECK_MSG(st.skipped >= 4 && st.one_sided == st.skipped, "relu: %zu kinks skipped, want >= 4",
              st.skipped);

    /* add */
    e.b = randn(n, 1.0f);
    e.db = thaw_test_alloc(n);
    thaw_gradcheck_tensor ta[] = {{"a", e.a, e.da, n}, {"b", e.b, e.db, n}};
    thaw_gradcheck_fn add = {&e, n, add_fwd, add_bwd};
    thaw_gradcheck("add", &add, ta, 2, &o, NULL);

    /* dropout with a fixed mask */
    e.mask = thaw_test_alloc(n);
    e.rate = 0.3f;
    e.seed = 99;
    thaw_gradcheck_tensor td[] = {{"x", e.a, e.da, n}};
    thaw_gradcheck_fn drop = {&e, n, dropout_fwd, dropout_bwd};
    thaw_gradcheck("dropout rate 0.3", &drop, td, 1, &o, NULL);
    free(e.a), free(e.b), free(e.da), free(e.db), free(e.y), free(e.mask);

    /* pad (2,3,4,3) by (1,2,0,1) */
    ew_ctx pe = {.n = 2, .h = 3, .w = 4, .c = 3, .pt = 1, .pb = 2, .pl = 0, .pr = 1};
    size_t nx = (size_t)pe.n * pe.h * pe.w * pe.c;
    size_t ny = (size_t)pe.n * (pe.h + 3) * (pe.w + 1) * pe.c;
    pe.a = randn(nx, 1.0f);
    pe.da = thaw_test_alloc(nx);
    thaw_gradcheck_tensor tp[] = {{"x", pe.a, pe.da, nx}};
    thaw_gradcheck_fn pad = {&pe, ny, pad_fwd, pad_bwd};
    thaw_gradcheck("pad (1,2,0,1)", &pad, tp, 1, &o, NULL);
    free(pe.a), free(pe.da);
}

/* ========================================================================= */
/* Softmax cross-entropy                                                     */
/* ========================================================================= */

typedef struct xent_ctx {
    int n, k;
    float *logits, *dlogits, *scratch;
    const int32_t *labels;
    double loss0; /* the loss at the base point */
} xent_ctx;

/* The output is loss - loss0: the same gradient, but rounding the (double)
 * loss to the float output then costs nothing of the small differences. */
static void xent_fwd(void *p, float *out)
{
    xent_ctx *x = p;
    out[0] = (float)(thaw_softmax_xent(NULL, NULL, x->logits, x->labels, x->n, x->k) - x->loss0);
}

/* dlogits is overwritten by the kernel: scale by dL and accumulate here */
static void xent_bwd(void *p, const float *dout)
{
    xent_ctx *x = p;
    size_t nk = (size_t)x->n * x->k;
    thaw_softmax_xent(x->scratch, NULL, x->logits, x->labels, x->n, x->k);
    for (size_t i = 0; i < nk; i++) x->dlogits[i] += dout[0] * x->scratch[i];
}

static void test_xent(void)
{
    static const int32_t labels[4] = {2, 0, 5, 2};
    xent_ctx x = {.n = 4, .k = 6, .labels = labels};
    size_t nk = (size_t)x.n * x.k;
    x.logits = randn(nk, 2.0f);
    x.logits[7] += 30.0f; /* a dominant logit */
    x.dlogits = thaw_test_alloc(nk);
    x.scratch = thaw_test_alloc(nk);
    x.loss0 = thaw_softmax_xent(NULL, NULL, x.logits, x.labels, x.n, x.k);
    thaw_gradcheck_tensor t[] = {{"logits", x.logits, x.dlogits, nk}};
    thaw_gradcheck_fn fn = {&x, 1, xent_fwd, xent_bwd};
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    thaw_gradcheck("softmax xent", &fn, t, 1, &o, NULL);
    free(x.logits), free(x.dlogits), free(x.scratch);
}

/* ========================================================================= */
/* Convolution through the backends                                          */
/* ========================================================================= */

typedef struct conv_ctx {
    const thaw_backend *be;
    thaw_conv_shape s;
    float *in, *kernel, *bias, *din, *dkernel, *dbias, *scratch;
} conv_ctx;

static void conv_fwd(void *p, float *out)
{
    conv_ctx *c = p;
    c->be->conv_forward(out, c->in, c->kernel, c->bias, &c->s, c->scratch);
}

static void conv_bwd(void *p, const float *dout)
{
    conv_ctx *c = p;
    c->be->conv_backward_data(c->din, dout, c->kernel, &c->s, c->scratch);
    c->be->conv_backward_weights(c->dkernel, c->bias ? c->dbias : NULL, dout, c->in, &c->s,
                                 c->scratch);
}

/* same: Keras "same" padding (thaw_conv_same_padding), else VALID */
static void conv_case(const thaw_backend *be, int n, int h, int w, int c, int o, int k, int st,
                      bool same, bool use_bias)
{
    conv_ctx cc = {.be = be};
    int pt = 0, pb = 0, pl = 0, pr = 0;
    if (same) {
        thaw_conv_same_padding(h, k, st, &pt, &pb);
        thaw_conv_same_padding(w, k, st, &pl, &pr);
    }
    if (thaw_conv_shape_init(&cc.s, n, h, w, c, o, k, k, st, st, pt, pb, pl, pr) != 0) {
        CHECK_MSG(false, "conv shape init failed");
        return;
    }
    size_t nin = (size_t)n * h * w * c, nk = (size_t)k * k * c * o;
    size_t nout = (size_t)n * cc.s.oh * cc.s.ow * o;
    cc.in = randn(nin, 1.0f);
    cc.kernel = randn(nk, 0.5f);
    cc.bias = use_bias ? randn(o, 1.0f) : NULL;
    cc.din = thaw_test_alloc(nin);
    cc.dkernel = thaw_test_alloc(nk);
    cc.dbias = thaw_test_alloc(o);
    size_t ns = be->conv_scratch_floats(&cc.s);
    cc.scratch = ns ? thaw_test_alloc(ns) : NULL;

    thaw_gradcheck_tensor t[] = {
        {"in", cc.in, cc.din, nin},
        {"kernel", cc.kernel, cc.dkernel, nk},
        {"bias", cc.bias, cc.dbias, (size_t)o},
    };
    thaw_gradcheck_fn fn = {&cc, nout, conv_fwd, conv_bwd};
    thaw_gradcheck_opts opts = thaw_gradcheck_defaults();
    opts.max_elems = 120;
    char what[128];
    snprintf(what, sizeof what, "conv %s (%d,%d,%d,%d)->%d k=%d s=%d pad (%d,%d,%d,%d)%s", be->name,
             n, h, w, c, o, k, st, pt, pb, pl, pr, use_bias ? " bias" : "");
    thaw_gradcheck(what, &fn, t, use_bias ? 3 : 2, &opts, NULL);
    free(cc.in), free(cc.kernel), free(cc.bias), free(cc.din), free(cc.dkernel), free(cc.dbias);
    free(cc.scratch);
}

static void test_conv(void)
{
    const thaw_backend *bes[] = {&thaw_backend_openblas, &thaw_backend_naive};
    for (int b = 0; b < 2; b++) {
        const thaw_backend *be = bes[b];
        conv_case(be, 2, 5, 5, 3, 4, 3, 1, true, true);  /* 3x3 stride 1 same */
        conv_case(be, 2, 6, 6, 3, 4, 3, 2, true, true);  /* 3x3 stride 2 same: pads (0,1) */
        conv_case(be, 1, 7, 5, 2, 3, 3, 2, true, false); /* odd sizes, stride 2 */
        conv_case(be, 2, 4, 3, 5, 6, 1, 1, false, true); /* 1x1 stride 1: no im2col */
        conv_case(be, 2, 5, 6, 4, 3, 1, 2, true, true);  /* 1x1 stride 2 (projection) */
        conv_case(be, 1, 9, 9, 3, 2, 7, 2, true, true);  /* conv1-like 7x7/2 */
        conv_case(be, 1, 6, 5, 2, 3, 3, 1, false, true); /* VALID */
    }
}

/* ========================================================================= */
/* A small network: the kernels chained as a model would chain them          */
/* ========================================================================= */

/* in (2,4,4,3) -> conv 3x3 same (4) + bias -> BN train -> ReLU -> dropout
 * 0.25 (fixed mask) -> flatten (2,64) -> dense (64,5) + bias -> softmax xent.
 * BN's beta sits near 1 and gamma near 0.5 so that few ReLU inputs are near
 * the kink. The intermediate gradients are scratch buffers, zeroed before each
 * backward and accumulated into by the kernels, as a model would do. */
enum { NET_N = 2, NET_H = 4, NET_W = 4, NET_C = 3, NET_O = 4, NET_K = 5 };
enum { NET_M = NET_N * NET_H * NET_W, NET_F = NET_H * NET_W * NET_O };

typedef struct net_ctx {
    thaw_conv_shape cs;
    const int32_t *labels;
    double loss0;
    /* tensors and their gradients */
    float *in, *kernel, *cbias, *gamma, *beta, *dk, *db;
    float *din, *dkernel, *dcbias, *dgamma, *dbeta, *ddk, *ddb;
    /* activations, saved statistics and gradient scratch */
    float *y1, *y2, *y3, *y4, *mask, *logits, *mean, *var, *invstd, *scratch;
    float *dy1, *dy2, *dy3, *dy4, *dlogits;
} net_ctx;

static double net_loss(net_ctx *t)
{
    const size_t nact = (size_t)NET_M * NET_O;
    thaw_rng r;
    thaw_rng_seed(&r, 1234, 5);
    thaw_backend_openblas.conv_forward(t->y1, t->in, t->kernel, t->cbias, &t->cs, t->scratch);
    thaw_bn_forward_train(t->y2, t->mean, t->var, t->invstd, t->y1, t->gamma, t->beta, NET_M, NET_O,
                          1e-3f);
    thaw_relu_forward(t->y3, t->y2, nact);
    thaw_dropout_forward(t->y4, t->mask, t->y3, nact, 0.25f, &r);
    thaw_dense_forward(t->logits, t->y4, t->dk, t->db, NET_N, NET_F, NET_K, &thaw_backend_openblas);
    return thaw_softmax_xent(t->dlogits, NULL, t->logits, t->labels, NET_N, NET_K);
}

static void net_fwd(void *p, float *out)
{
    net_ctx *t = p;
    out[0] = (float)(net_loss(t) - t->loss0);
}

static void net_bwd(void *p, const float *dout)
{
    net_ctx *t = p;
    const size_t nact = (size_t)NET_M * NET_O;
    for (int i = 0; i < NET_N * NET_K; i++) t->dlogits[i] *= dout[0];
    float *scratch[] = {t->dy1, t->dy2, t->dy3, t->dy4};
    for (int i = 0; i < 4; i++) memset(scratch[i], 0, nact * sizeof(float));
    thaw_dense_backward_data(t->dy4, t->dlogits, t->dk, NET_N, NET_F, NET_K,
                             &thaw_backend_openblas);
    thaw_dense_backward_weights(t->ddk, t->ddb, t->dlogits, t->y4, NET_N, NET_F, NET_K,
                                &thaw_backend_openblas);
    thaw_dropout_backward(t->dy3, t->dy4, t->mask, nact);
    thaw_relu_backward(t->dy2, t->dy3, t->y3, nact);
    thaw_bn_backward_train(t->dy1, t->dgamma, t->dbeta, t->dy2, t->y1, t->mean, t->invstd, t->gamma,
                           NET_M, NET_O);
    thaw_backend_openblas.conv_backward_data(t->din, t->dy1, t->kernel, &t->cs, t->scratch);
    thaw_backend_openblas.conv_backward_weights(t->dkernel, t->dcbias, t->dy1, t->in, &t->cs,
                                                t->scratch);
}

static void test_small_network(void)
{
    static const int32_t labels[NET_N] = {3, 0};
    net_ctx t = {.labels = labels};
    int pt, pb, pl, pr;
    thaw_conv_same_padding(NET_H, 3, 1, &pt, &pb);
    thaw_conv_same_padding(NET_W, 3, 1, &pl, &pr);
    CHECK(thaw_conv_shape_init(&t.cs, NET_N, NET_H, NET_W, NET_C, NET_O, 3, 3, 1, 1, pt, pb, pl,
                               pr) == 0);
    const size_t nact = (size_t)NET_M * NET_O;
    float **bufs[] = {&t.in, &t.kernel, &t.cbias, &t.gamma, &t.beta, &t.dk, &t.db};
    float **grads[] = {&t.din, &t.dkernel, &t.dcbias, &t.dgamma, &t.dbeta, &t.ddk, &t.ddb};
    const size_t sizes[] = {
        (size_t)NET_M * NET_C, 9 * NET_C * NET_O, NET_O, NET_O, NET_O, NET_F * NET_K, NET_K};
    const float stds[] = {1.0f, 0.3f, 1.0f, 0.1f, 0.2f, 0.5f, 1.0f};
    const char *names[] = {"in",   "conv kernel",  "conv bias", "gamma",
                           "beta", "dense kernel", "dense bias"};
    thaw_gradcheck_tensor tensors[7];
    for (int i = 0; i < 7; i++) {
        *bufs[i] = randn(sizes[i], stds[i]);
        *grads[i] = thaw_test_alloc(sizes[i]);
        tensors[i] = (thaw_gradcheck_tensor){names[i], *bufs[i], *grads[i], sizes[i]};
    }
    for (int j = 0; j < NET_O; j++) t.gamma[j] += 0.5f, t.beta[j] += 1.0f;
    float **acts[] = {&t.y1, &t.y2, &t.y3, &t.y4, &t.mask, &t.dy1, &t.dy2, &t.dy3, &t.dy4};
    for (int i = 0; i < 9; i++) *acts[i] = thaw_test_alloc(nact);
    t.logits = thaw_test_alloc(NET_N * NET_K);
    t.dlogits = thaw_test_alloc(NET_N * NET_K);
    t.mean = thaw_test_alloc(NET_O);
    t.var = thaw_test_alloc(NET_O);
    t.invstd = thaw_test_alloc(NET_O);
    size_t ns = thaw_backend_openblas.conv_scratch_floats(&t.cs);
    t.scratch = ns ? thaw_test_alloc(ns) : NULL;
    t.loss0 = net_loss(&t);

    thaw_gradcheck_fn fn = {&t, 1, net_fwd, net_bwd};
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    o.max_elems = 60;
    o.atol = 1e-3; /* the conv bias gradient is exactly 0: BN removes channel means */
    thaw_gradcheck("small network", &fn, tensors, 7, &o, NULL);

    for (int i = 0; i < 7; i++) free(*bufs[i]), free(*grads[i]);
    for (int i = 0; i < 9; i++) free(*acts[i]);
    free(t.logits), free(t.dlogits), free(t.mean), free(t.var), free(t.invstd), free(t.scratch);
}

/* ========================================================================= */
/* The checker itself catches wrong gradients                                */
/* ========================================================================= */

static void relu_bwd_wrong_scale(void *p, const float *dout)
{
    ew_ctx *e = p;
    thaw_relu_backward(e->da, dout, e->y, e->count);
    thaw_relu_backward(e->da, dout, e->y, e->count); /* twice: 2x the gradient */
}

static void relu_bwd_overwrites(void *p, const float *dout)
{
    ew_ctx *e = p;
    memset(e->da, 0, e->count * sizeof(float)); /* not accumulating */
    thaw_relu_backward(e->da, dout, e->y, e->count);
}

/* Runs a check that must fail, then takes its failures back out of the tally. */
static void expect_gradcheck_fails(const char *what, thaw_gradcheck_fn *fn,
                                   thaw_gradcheck_tensor *t, int nt)
{
    int failures = thaw_test_failures;
    thaw_gradcheck_opts o = thaw_gradcheck_defaults();
    o.quiet = true;
    fprintf(stderr, "(expected failure follows: %s)\n", what);
    bool ok = thaw_gradcheck(what, fn, t, nt, &o, NULL);
    thaw_test_failures = failures;
    fprintf(stderr, "(end of expected failure)\n");
    CHECK_MSG(!ok, "gradcheck did not catch %s", what);
}

static void test_checker_catches_errors(void)
{
    const size_t n = 20;
    ew_ctx e = {.count = n};
    e.a = randn(n, 1.0f);
    e.da = thaw_test_alloc(n);
    e.y = thaw_test_alloc(n);
    thaw_gradcheck_tensor t[] = {{"x", e.a, e.da, n}};
    thaw_gradcheck_fn wrong = {&e, n, relu_fwd, relu_bwd_wrong_scale};
    expect_gradcheck_fails("relu with a doubled gradient", &wrong, t, 1);
    thaw_gradcheck_fn overwrite = {&e, n, relu_fwd, relu_bwd_overwrites};
    expect_gradcheck_fails("relu backward that overwrites", &overwrite, t, 1);
    free(e.a), free(e.da), free(e.y);
}

int main(void)
{
    thaw_rng_seed(&rng, 7, 3);
    test_checker_catches_errors();
    test_bn();
    test_dense();
    test_pool();
    test_elementwise();
    test_xent();
    test_conv();
    test_small_network();
    return thaw_test_finish();
}
