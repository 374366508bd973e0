/* Keras legacy HDF5 weight files -> a Thaw model (see keras_h5.h).
 *
 * The steps:
 *   1. open the file and find the weights root (/ or /model_weights);
 *   2. read `layer_names` (joining layer_names0.. if split). Then read each
 *      layer group's `weight_names` and keep the layers that have weights;
 *   3. detect the name variant and map every weighted layer to its Thaw
 *      name;
 *   4. read the architecture from the names and conv1's kernel shape, and
 *      the top from its kernel shape, then build the model;
 *   5. match the model's weighted layers with the file's, both ways, before
 *      reading anything;
 *   6. read every dataset in `weight_names` order, checking type, exact
 *      shape and values.
 * Any failure frees the model, so no partly loaded model ever escapes.
 *
 * Every HDF5 handle is closed on every path. A failed HDF5 call is reported
 * with the innermost message of HDF5's error stack, which is read before the
 * next library call clears it. */
#include "io/keras_h5.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#define MAX_STRINGS      20000       /* entries of one string attribute (ResNet152: ~520) */
#define MAX_STRING_BYTES (64u << 20) /* bytes of one fixed-length string attribute */
#define MAX_DIMS         8
#define LIST_MAX         300 /* bytes of a name list inside an error message */

/* ------------------------------------------------------------ string lists */

typedef struct strlist {
    char **s;
    int n, cap;
} strlist;

static void strlist_free(strlist *l)
{
    for (int i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    l->s = NULL;
    l->n = l->cap = 0;
}

/* Appends a copy of the first len bytes of s; -1 when out of memory. */
static int strlist_push(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->s, (size_t)cap * sizeof *p);
        if (!p) return -1;
        l->s = p;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->s[l->n++] = copy;
    return 0;
}

/* ------------------------------------------------------------ the context */

typedef struct klayer {
    char *name;               /* group name in the file (owned by ctx->layer_names) */
    char thaw[THAW_NAME_MAX]; /* the Thaw layer it maps to; "" when it maps to none */
    strlist weights;          /* weight_names, in order */
    bool used;                /* matched with a model layer (or knowingly skipped) */
} klayer;

typedef struct kctx {
    const char *path;
    thaw_error *err;
    thaw_keras_info *info;
    hid_t file, root;
    strlist layer_names;
    klayer *layers; /* weighted layers only, in layer_names order */
    int n_layers;
    thaw_keras_variant variant;
    bool caffe_blocks; /* old names use res4b1.. block ids */
} kctx;

static thaw_status fail(kctx *c, thaw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static thaw_status fail_h5(kctx *c, thaw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static thaw_status fail(kctx *c, thaw_status st, const char *fmt, ...)
{
    char msg[THAW_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return thaw_error_set(c->err, st, "%s: %s", c->path, msg);
}

/* Keeps the first non-empty description, walking from the innermost record. */
static herr_t first_desc(unsigned n, const H5E_error2_t *e, void *data)
{
    char *buf = data;
    (void)n;
    if (!buf[0] && e && e->desc && e->desc[0]) {
        snprintf(buf, 160, "%s", e->desc);
        return 1; /* stop the walk */
    }
    return 0;
}

/* As fail(), appending what HDF5 said about the call that just failed. */
static thaw_status fail_h5(kctx *c, thaw_status st, const char *fmt, ...)
{
    char detail[160] = "";
    if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_desc, detail) < 0) detail[0] = '\0';
    char msg[THAW_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (detail[0]) return thaw_error_set(c->err, st, "%s: %s (HDF5: %s)", c->path, msg, detail);
    return thaw_error_set(c->err, st, "%s: %s", c->path, msg);
}

/* Closes an HDF5 id with closer when it is valid; a failed close becomes the
 * error when nothing failed before. */
static void close_id(kctx *c, hid_t *id, herr_t (*closer)(hid_t), thaw_status *st)
{
    if (*id < 0) return;
    if (closer(*id) < 0 && *st == THAW_OK)
        *st = fail_h5(c, THAW_ERR_IO, "closing an HDF5 object failed");
    *id = H5I_INVALID_HID;
}

static bool is_old(const kctx *c)
{
    return c->variant == THAW_KERAS_VARIANT_OLD;
}

/* "bn_conv1 (Thaw conv1_bn)" for old names, "conv1_bn" otherwise. */
static const char *layer_label(const kctx *c, const klayer *kl, char *buf, size_t size)
{
    if (is_old(c) && kl->thaw[0])
        snprintf(buf, size, "%s (Thaw %s)", kl->name, kl->thaw);
    else
        snprintf(buf, size, "%s", kl->name);
    return buf;
}

/* ------------------------------------------------------- string attributes */

/* Appends the strings of attribute attr of loc to out. Fixed-length (h5py 2:
 * NULLPAD, a full-length entry has no NUL) and variable-length (h5py 3)
 * strings are accepted, and so is a scalar string. An empty array of another
 * type (Keras writes np.asarray([]), float64 (0,), for weightless layers)
 * gives no strings. owner names the object in messages. */
static thaw_status read_strings(kctx *c, hid_t loc, const char *attr, const char *owner,
                                strlist *out)
{
    thaw_status st = THAW_OK;
    hid_t a = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t mtype = H5I_INVALID_HID;
    char **vbuf = NULL;
    char *fbuf = NULL;
    bool reclaim = false;

    a = H5Aopen(loc, attr, H5P_DEFAULT);
    if (a < 0) return fail_h5(c, THAW_ERR_FORMAT, "%s: cannot open attribute %s", owner, attr);
    type = H5Aget_type(a);
    if (type < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "%s: attribute %s has no type", owner, attr);
        goto done;
    }
    space = H5Aget_space(a);
    if (space < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "%s: attribute %s has no dataspace", owner, attr);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    hssize_t np = H5Sget_simple_extent_npoints(space);
    H5T_class_t tclass = H5Tget_class(type);
    if (rank < 0 || np < 0 || tclass == H5T_NO_CLASS) {
        st = fail_h5(c, THAW_ERR_FORMAT, "%s: cannot inspect attribute %s", owner, attr);
        goto done;
    }
    if (rank > 1) {
        st = fail(c, THAW_ERR_FORMAT, "%s: attribute %s has %d dimensions, expected a list", owner,
                  attr, rank);
        goto done;
    }
    if (tclass != H5T_STRING) {
        if (np != 0)
            st = fail(c, THAW_ERR_FORMAT, "%s: attribute %s is not a list of strings", owner, attr);
        goto done;
    }
    if (np == 0) goto done;
    if (np > MAX_STRINGS) {
        st = fail(c, THAW_ERR_FORMAT, "%s: attribute %s has %lld entries (limit %d)", owner, attr,
                  (long long)np, MAX_STRINGS);
        goto done;
    }
    size_t n = (size_t)np;
    htri_t vlen = H5Tis_variable_str(type);
    H5T_cset_t cset = H5Tget_cset(type);
    mtype = H5Tcopy(H5T_C_S1);
    if (vlen < 0 || cset == H5T_CSET_ERROR || mtype < 0 || H5Tset_cset(mtype, cset) < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "%s: cannot read the string type of attribute %s", owner,
                     attr);
        goto done;
    }
    if (vlen) {
        vbuf = calloc(n, sizeof *vbuf);
        if (!vbuf) {
            st = fail(c, THAW_ERR_NOMEM, "out of memory reading attribute %s", attr);
            goto done;
        }
        if (H5Tset_size(mtype, H5T_VARIABLE) < 0 || H5Aread(a, mtype, vbuf) < 0) {
            st = fail_h5(c, THAW_ERR_FORMAT, "%s: cannot read attribute %s", owner, attr);
            goto done;
        }
        reclaim = true;
        for (size_t i = 0; i < n; i++) {
            const char *s = vbuf[i] ? vbuf[i] : "";
            if (strlist_push(out, s, strlen(s)) != 0) {
                st = fail(c, THAW_ERR_NOMEM, "out of memory reading attribute %s", attr);
                goto done;
            }
        }
    } else {
        size_t size = H5Tget_size(type);
        H5T_str_t pad = H5Tget_strpad(type);
        if (size == 0 || pad == H5T_STR_ERROR) {
            st = fail_h5(c, THAW_ERR_FORMAT, "%s: attribute %s has a bad string size", owner, attr);
            goto done;
        }
        if (size > MAX_STRING_BYTES / n) {
            st = fail(c, THAW_ERR_FORMAT, "%s: attribute %s is too large (%zu x %zu bytes)", owner,
                      attr, n, size);
            goto done;
        }
        fbuf = malloc(n * size);
        if (!fbuf) {
            st = fail(c, THAW_ERR_NOMEM, "out of memory reading attribute %s", attr);
            goto done;
        }
        if (H5Tset_size(mtype, size) < 0 || H5Tset_strpad(mtype, H5T_STR_NULLPAD) < 0 ||
            H5Aread(a, mtype, fbuf) < 0) {
            st = fail_h5(c, THAW_ERR_FORMAT, "%s: cannot read attribute %s", owner, attr);
            goto done;
        }
        if (c->info) c->info->fixed_strings = true;
        for (size_t i = 0; i < n; i++) {
            const char *s = fbuf + i * size;
            size_t len = strnlen(s, size); /* a full-length name has no NUL */
            if (pad == H5T_STR_SPACEPAD)
                while (len > 0 && s[len - 1] == ' ') len--;
            if (strlist_push(out, s, len) != 0) {
                st = fail(c, THAW_ERR_NOMEM, "out of memory reading attribute %s", attr);
                goto done;
            }
        }
    }

done:
    if (reclaim && H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, vbuf) < 0 && st == THAW_OK)
        st = fail_h5(c, THAW_ERR_FORMAT, "%s: cannot release attribute %s", owner, attr);
    free(vbuf);
    free(fbuf);
    close_id(c, &mtype, H5Tclose, &st);
    close_id(c, &space, H5Sclose, &st);
    close_id(c, &type, H5Tclose, &st);
    close_id(c, &a, H5Aclose, &st);
    return st;
}

/* Whether loc has attribute name. */
static thaw_status has_attr(kctx *c, hid_t loc, const char *name, bool *exists)
{
    htri_t r = H5Aexists(loc, name);
    if (r < 0) return fail_h5(c, THAW_ERR_FORMAT, "cannot look up attribute %s", name);
    *exists = r > 0;
    return THAW_OK;
}

/* An informational string attribute (keras_version, backend) into buf unless
 * buf is already set; left empty when absent. */
static thaw_status read_info_string(kctx *c, hid_t loc, const char *name, char *buf, size_t size)
{
    bool exists = false;
    thaw_status st = has_attr(c, loc, name, &exists);
    if (st != THAW_OK || !exists || buf[0]) return st;
    strlist l = {0};
    st = read_strings(c, loc, name, "root", &l);
    if (st == THAW_OK && l.n > 0) snprintf(buf, size, "%s", l.s[0]);
    strlist_free(&l);
    return st;
}

/* ------------------------------------------------------------ name mapping */

/* Old keras-applications name -> Thaw name: conv1 -> conv1_conv, bn_conv1 ->
 * conv1_bn, fc1000 -> predictions, res<S><B>_branch<J> / bn<S><B>_branch<J>
 * -> conv<S>_block<K>_<j>_conv|bn with branch 1, 2a, 2b, 2c -> j 0..3 and
 * block id a, b, c, ... (K 1, 2, 3, ...) or Caffe's a, b1, b2, ... (K 1, 2,
 * 3, ...). Returns false when old is none of these. */
static bool map_old_name(kctx *c, const char *old, char *thaw, size_t size)
{
    if (strcmp(old, "conv1") == 0) return snprintf(thaw, size, "conv1_conv"), true;
    if (strcmp(old, "bn_conv1") == 0) return snprintf(thaw, size, "conv1_bn"), true;
    if (strcmp(old, "fc1000") == 0) return snprintf(thaw, size, "predictions"), true;

    const char *kind;
    const char *p;
    if (strncmp(old, "res", 3) == 0) {
        kind = "conv";
        p = old + 3;
    } else if (strncmp(old, "bn", 2) == 0) {
        kind = "bn";
        p = old + 2;
    } else {
        return false;
    }
    if (*p < '2' || *p > '9') return false;
    int stage = *p++ - '0';
    if (*p < 'a' || *p > 'z') return false;
    int block = *p++ - 'a' + 1;
    if (block == 2 && *p >= '1' && *p <= '9') { /* Caffe: b1, b2, ... */
        int k = 0;
        while (*p >= '0' && *p <= '9' && k < 1000) k = 10 * k + (*p++ - '0');
        block = 1 + k;
        c->caffe_blocks = true;
    }
    int j;
    if (strcmp(p, "_branch1") == 0)
        j = 0;
    else if (strcmp(p, "_branch2a") == 0)
        j = 1;
    else if (strcmp(p, "_branch2b") == 0)
        j = 2;
    else if (strcmp(p, "_branch2c") == 0)
        j = 3;
    else
        return false;
    snprintf(thaw, size, "conv%d_block%d_%d_%s", stage, block, j, kind);
    return true;
}

/* Thaw name -> the name the file would use (for messages about absent layers). */
static void file_name_for(const kctx *c, const char *thaw, char *buf, size_t size)
{
    if (!is_old(c)) {
        snprintf(buf, size, "%s", thaw);
        return;
    }
    int stage, block, j, used = 0;
    char kind[8];
    if (strcmp(thaw, "conv1_conv") == 0) {
        snprintf(buf, size, "conv1");
    } else if (strcmp(thaw, "conv1_bn") == 0) {
        snprintf(buf, size, "bn_conv1");
    } else if (strcmp(thaw, "predictions") == 0) {
        snprintf(buf, size, "fc1000");
    } else if (sscanf(thaw, "conv%d_block%d_%d_%7[a-z]%n", &stage, &block, &j, kind, &used) == 4 &&
               thaw[used] == '\0' && j >= 0 && j <= 3 && block >= 1) {
        static const char *branch[] = {"1", "2a", "2b", "2c"};
        char id[16];
        if (block == 1)
            snprintf(id, sizeof id, "a");
        else if (c->caffe_blocks || block > 26)
            snprintf(id, sizeof id, "b%d", block - 1);
        else
            snprintf(id, sizeof id, "%c", 'a' + block - 1);
        snprintf(buf, size, "%s%d%s_branch%s", strcmp(kind, "conv") == 0 ? "res" : "bn", stage, id,
                 branch[j]);
    } else {
        snprintf(buf, size, "%s", thaw);
    }
    if (strcmp(buf, thaw) != 0) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, " (Thaw %s)", thaw);
    }
}

static klayer *find_mapped(kctx *c, const char *thaw)
{
    for (int i = 0; i < c->n_layers; i++)
        if (strcmp(c->layers[i].thaw, thaw) == 0) return &c->layers[i];
    return NULL;
}

/* ---------------------------------------------------- reading the file */

/* Whether loc has layer_names or layer_names0. */
static thaw_status has_layer_names(kctx *c, hid_t loc, bool *exists)
{
    thaw_status st = has_attr(c, loc, "layer_names", exists);
    if (st == THAW_OK && !*exists) st = has_attr(c, loc, "layer_names0", exists);
    return st;
}

/* Opens the weights root: / or, for full-model files, /model_weights. */
static thaw_status open_root(kctx *c)
{
    bool found = false;
    thaw_status st = has_layer_names(c, c->file, &found);
    if (st != THAW_OK) return st;
    if (found) {
        c->root = H5Gopen2(c->file, "/", H5P_DEFAULT);
        if (c->root < 0) return fail_h5(c, THAW_ERR_FORMAT, "cannot open the root group");
        return THAW_OK;
    }
    htri_t e = H5Lexists(c->file, "model_weights", H5P_DEFAULT);
    if (e < 0) return fail_h5(c, THAW_ERR_FORMAT, "cannot look up /model_weights");
    if (e > 0) {
        c->root = H5Gopen2(c->file, "model_weights", H5P_DEFAULT);
        if (c->root < 0) return fail_h5(c, THAW_ERR_FORMAT, "/model_weights is not a group");
        st = has_layer_names(c, c->root, &found);
        if (st != THAW_OK) return st;
        if (found) {
            if (c->info) c->info->full_model = true;
            return THAW_OK;
        }
    }
    return fail(c, THAW_ERR_FORMAT,
                "no layer_names attribute at / or /model_weights: not a Keras weight file");
}

/* layer_names, or layer_names0, layer_names1, ... joined. */
static thaw_status read_layer_names(kctx *c)
{
    bool whole = false;
    thaw_status st = has_attr(c, c->root, "layer_names", &whole);
    if (st == THAW_OK && whole)
        st = read_strings(c, c->root, "layer_names", "root", &c->layer_names);
    for (int k = 0; st == THAW_OK && !whole; k++) {
        char name[32];
        bool more = false;
        snprintf(name, sizeof name, "layer_names%d", k);
        st = has_attr(c, c->root, name, &more);
        if (st != THAW_OK || !more) break;
        st = read_strings(c, c->root, name, "root", &c->layer_names);
    }
    if (st != THAW_OK) return st;
    if (c->layer_names.n == 0) return fail(c, THAW_ERR_FORMAT, "layer_names is empty");
    for (int i = 0; i < c->layer_names.n; i++) {
        const char *a = c->layer_names.s[i];
        if (!a[0]) return fail(c, THAW_ERR_FORMAT, "layer_names entry %d is empty", i);
        for (int j = 0; j < i; j++)
            if (strcmp(a, c->layer_names.s[j]) == 0)
                return fail(c, THAW_ERR_FORMAT, "layer %s is listed twice in layer_names", a);
    }
    if (c->info) c->info->n_layer_names = c->layer_names.n;
    return THAW_OK;
}

/* weight_names of the group `name` into *out (empty for weightless layers). */
static thaw_status read_weight_names(kctx *c, const char *name, strlist *out)
{
    thaw_status st = THAW_OK;
    char owner[THAW_NAME_MAX + 80];
    snprintf(owner, sizeof owner, "layer %s", name);
    hid_t g = H5Gopen2(c->root, name, H5P_DEFAULT);
    if (g < 0)
        return fail_h5(c, THAW_ERR_FORMAT, "layer %s is listed in layer_names but has no group",
                       name);
    bool exists = false;
    st = has_attr(c, g, "weight_names", &exists);
    if (st == THAW_OK && !exists)
        st = fail(c, THAW_ERR_FORMAT, "layer %s: no weight_names attribute", name);
    if (st == THAW_OK) st = read_strings(c, g, "weight_names", owner, out);
    for (int i = 0; st == THAW_OK && i < out->n; i++)
        if (!out->s[i][0])
            st = fail(c, THAW_ERR_FORMAT, "layer %s: weight %d has no name", name, i);
    close_id(c, &g, H5Gclose, &st);
    return st;
}

static thaw_status read_layers(kctx *c)
{
    c->layers = calloc((size_t)c->layer_names.n, sizeof *c->layers);
    if (!c->layers) return fail(c, THAW_ERR_NOMEM, "out of memory");
    for (int i = 0; i < c->layer_names.n; i++) {
        klayer *kl = &c->layers[c->n_layers];
        thaw_status st = read_weight_names(c, c->layer_names.s[i], &kl->weights);
        if (st != THAW_OK) {
            strlist_free(&kl->weights);
            return st;
        }
        if (kl->weights.n > 0) {
            kl->name = c->layer_names.s[i];
            c->n_layers++;
        }
    }
    /* Keras 3 adds a group for the model's own (top-level) weights; it must be empty. */
    htri_t e = H5Lexists(c->root, "top_level_model_weights", H5P_DEFAULT);
    if (e < 0) return fail_h5(c, THAW_ERR_FORMAT, "cannot look up top_level_model_weights");
    bool listed = false;
    for (int i = 0; i < c->layer_names.n; i++)
        listed |= strcmp(c->layer_names.s[i], "top_level_model_weights") == 0;
    if (e > 0 && !listed) {
        strlist w = {0};
        thaw_status st = read_weight_names(c, "top_level_model_weights", &w);
        int n = w.n;
        strlist_free(&w);
        if (st != THAW_OK) return st;
        if (n > 0)
            return fail(c, THAW_ERR_FORMAT,
                        "unexpected weighted layer top_level_model_weights (%d weights): Thaw's "
                        "ResNets have no model-level weights",
                        n);
    }
    return THAW_OK;
}

/* Comma-separated names into buf, "..." when they do not all fit. */
static void append_name(char *buf, size_t size, const char *name, int *listed)
{
    size_t n = strlen(buf);
    if (n >= size - 1) return;
    if (n + strlen(name) + 6 >= size) {
        if (!strstr(buf, "...")) snprintf(buf + n, size - n, "%s...", n ? ", " : "");
        return;
    }
    snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
    (*listed)++;
}

/* Detects the variant and maps every weighted layer to its Thaw name. */
static thaw_status map_layers(kctx *c)
{
    bool current = false, old = false;
    for (int i = 0; i < c->n_layers; i++) {
        const char *n = c->layers[i].name;
        current |= strcmp(n, "conv1_conv") == 0;
        old |= strcmp(n, "conv1") == 0 || strcmp(n, "bn_conv1") == 0;
    }
    if (!current && !old) {
        char list[LIST_MAX] = "";
        int listed = 0;
        for (int i = 0; i < c->n_layers; i++)
            append_name(list, sizeof list, c->layers[i].name, &listed);
        return fail(c, THAW_ERR_FORMAT,
                    "not a Keras ResNet: neither conv1_conv (tf.keras / Keras 3 names) nor conv1 / "
                    "bn_conv1 (keras-applications names) has weights; weighted layers: %s",
                    c->n_layers ? list : "none");
    }
    c->variant = current ? THAW_KERAS_VARIANT_CURRENT : THAW_KERAS_VARIANT_OLD;
    if (c->info) {
        c->info->variant = c->variant;
        c->info->variant_name =
            current ? "tf.keras / Keras 3 (current names)" : "keras-applications (old names)";
    }
    for (int i = 0; i < c->n_layers; i++) {
        klayer *kl = &c->layers[i];
        if (current) {
            const char *t = strcmp(kl->name, "probs") == 0 ? "predictions" : kl->name;
            if (strlen(t) < sizeof kl->thaw) snprintf(kl->thaw, sizeof kl->thaw, "%s", t);
        } else if (!map_old_name(c, kl->name, kl->thaw, sizeof kl->thaw)) {
            kl->thaw[0] = '\0';
        }
        for (int j = 0; kl->thaw[0] && j < i; j++)
            if (strcmp(c->layers[j].thaw, kl->thaw) == 0)
                return fail(c, THAW_ERR_FORMAT, "layers %s and %s both map to Thaw's %s",
                            c->layers[j].name, kl->name, kl->thaw);
    }
    return THAW_OK;
}

/* Shape of dataset `index` of layer kl, without reading it. */
static thaw_status dataset_shape(kctx *c, const klayer *kl, int index, int *ndim, hsize_t *dims)
{
    thaw_status st = THAW_OK;
    char label[2 * THAW_NAME_MAX + 16];
    layer_label(c, kl, label, sizeof label);
    hid_t g = H5I_INVALID_HID, d = H5I_INVALID_HID, s = H5I_INVALID_HID;
    g = H5Gopen2(c->root, kl->name, H5P_DEFAULT);
    if (g < 0) return fail_h5(c, THAW_ERR_FORMAT, "layer %s: cannot open its group", label);
    d = H5Dopen2(g, kl->weights.s[index], H5P_DEFAULT);
    if (d < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT,
                     "layer %s: weight %s (listed in weight_names) is not in the file", label,
                     kl->weights.s[index]);
        goto done;
    }
    s = H5Dget_space(d);
    int r = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    if (r < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "layer %s: weight %s has no dataspace", label,
                     kl->weights.s[index]);
        goto done;
    }
    if (r > MAX_DIMS) {
        st = fail(c, THAW_ERR_SHAPE, "layer %s: weight %s has %d dimensions", label,
                  kl->weights.s[index], r);
        goto done;
    }
    if (H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "layer %s: weight %s has no dimensions", label,
                     kl->weights.s[index]);
        goto done;
    }
    *ndim = r;
done:
    close_id(c, &s, H5Sclose, &st);
    close_id(c, &d, H5Dclose, &st);
    close_id(c, &g, H5Gclose, &st);
    return st;
}

/* ------------------------------------------------------- the architecture */

typedef struct arch_row {
    const char *name;
    bool cifar, bottleneck;
    int stages;
    int blocks[4];
} arch_row;

/* The family engine/model/resnet.c builds. */
/* clang-format off */
static const arch_row archs[] = {
    {"resnet8", true, false, 3, {1, 1, 1}},
    {"resnet20", true, false, 3, {3, 3, 3}},
    {"resnet32", true, false, 3, {5, 5, 5}},
    {"resnet56", true, false, 3, {9, 9, 9}},
    {"resnet18", false, false, 4, {2, 2, 2, 2}},
    {"resnet34", false, false, 4, {3, 4, 6, 3}},
    {"resnet50", false, true, 4, {3, 4, 6, 3}},
    {"resnet101", false, true, 4, {3, 4, 23, 3}},
    {"resnet152", false, true, 4, {3, 8, 36, 3}},
};
/* clang-format on */
#define N_ARCHS (sizeof archs / sizeof archs[0])

static const arch_row *arch_by_name(const char *name)
{
    for (size_t i = 0; i < N_ARCHS; i++)
        if (strcmp(archs[i].name, name) == 0) return &archs[i];
    return NULL;
}

/* The architecture whose stem (CIFAR 3x3 or ImageNet 7x7), block kind and
 * per-stage block counts the file's names show. */
static thaw_status detect_arch(kctx *c, bool cifar, const arch_row **out)
{
    int blocks[8] = {0};
    bool bottleneck = false;
    for (int i = 0; i < c->n_layers; i++) {
        int s, k, j, used = 0;
        if (sscanf(c->layers[i].thaw, "conv%d_block%d_%d_%n", &s, &k, &j, &used) == 3 && used &&
            s >= 2 && s <= 9 && k >= 1) {
            if (k > blocks[s - 2]) blocks[s - 2] = k;
            bottleneck |= j == 3;
        }
    }
    int stages = 0;
    while (stages < 8 && blocks[stages] > 0) stages++;
    for (size_t i = 0; i < N_ARCHS; i++) {
        const arch_row *a = &archs[i];
        if (a->cifar != cifar || a->bottleneck != bottleneck || a->stages != stages) continue;
        bool same = true;
        for (int s = 0; s < 8; s++) same &= blocks[s] == (s < a->stages ? a->blocks[s] : 0);
        if (same) {
            *out = a;
            return THAW_OK;
        }
    }
    char counts[64] = "";
    for (int s = 0; s < 8 && (s < stages || s < 3); s++) {
        size_t n = strlen(counts);
        snprintf(counts + n, sizeof counts - n, "%s%d", s ? "," : "", blocks[s]);
    }
    return fail(c, THAW_ERR_FORMAT,
                "the layer names give %s-style %s blocks per stage %s, which no Thaw architecture "
                "has (resnet8/20/32/56, resnet18/34, resnet50/101/152)",
                cifar ? "CIFAR" : "ImageNet", bottleneck ? "bottleneck" : "basic", counts);
}

static bool is_head_layer(const char *thaw)
{
    return strcmp(thaw, "predictions") == 0 || strcmp(thaw, "head_dense") == 0;
}

/* ------------------------------------------------------------ the weights */

static void shape_str(char *buf, size_t size, int ndim, const hsize_t *hd, const int *id)
{
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%llu", i ? ", " : "",
                              hd ? (unsigned long long)hd[i] : (unsigned long long)id[i]);
    if (n < size) snprintf(buf + n, size - n, ")");
}

/* Reads dataset `index` of kl into parameter p, checking type, exact shape
 * and values. */
static thaw_status read_weight(kctx *c, hid_t g, const klayer *kl, int index, thaw_model *m,
                               const thaw_param *p, bool is_variance, bool allow_float64)
{
    thaw_status st = THAW_OK;
    hid_t d = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    double *tmp = NULL;
    const char *wname = kl->weights.s[index];
    char label[2 * THAW_NAME_MAX + 16];
    layer_label(c, kl, label, sizeof label);

    d = H5Dopen2(g, wname, H5P_DEFAULT);
    if (d < 0)
        return fail_h5(c, THAW_ERR_FORMAT,
                       "layer %s: weight %s (listed in weight_names) is not in the file", label,
                       wname);
    type = H5Dget_type(d);
    space = H5Dget_space(d);
    if (type < 0 || space < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "layer %s: cannot inspect weight %s", label, wname);
        goto done;
    }
    H5T_class_t tclass = H5Tget_class(type);
    size_t tsize = H5Tget_size(type);
    if (tclass == H5T_NO_CLASS || tsize == 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "layer %s: weight %s has a bad type", label, wname);
        goto done;
    }
    bool f64 = tclass == H5T_FLOAT && tsize == 8;
    if (tclass != H5T_FLOAT || (tsize != 4 && !(f64 && allow_float64))) {
        if (f64)
            st = fail(c, THAW_ERR_FORMAT,
                      "layer %s: weight %s is float64, not float32 (Keras would cast it silently; "
                      "allow_float64 converts)",
                      label, wname);
        else if (tclass == H5T_FLOAT)
            st = fail(c, THAW_ERR_FORMAT, "layer %s: weight %s is a %zu-bit float, not float32",
                      label, wname, 8 * tsize);
        else
            st =
                fail(c, THAW_ERR_FORMAT, "layer %s: weight %s is not floating-point", label, wname);
        goto done;
    }

    int ndim = H5Sget_simple_extent_ndims(space);
    hsize_t dims[MAX_DIMS];
    if (ndim < 0 || ndim > MAX_DIMS ||
        (ndim > 0 && H5Sget_simple_extent_dims(space, dims, NULL) < 0)) {
        st = ndim > MAX_DIMS ? fail(c, THAW_ERR_SHAPE, "layer %s: weight %s has %d dimensions",
                                    label, wname, ndim)
                             : fail_h5(c, THAW_ERR_FORMAT, "layer %s: weight %s has no dimensions",
                                       label, wname);
        goto done;
    }
    bool same = ndim == p->ndim;
    for (int i = 0; same && i < ndim; i++) same = dims[i] == (hsize_t)p->dims[i];
    if (!same) {
        if (ndim == 1 && p->ndim == 1) {
            st = fail(c, THAW_ERR_SHAPE,
                      "layer %s: expected %d values, found %llu (weight %d of %d, %s)", label,
                      p->dims[0], (unsigned long long)dims[0], index + 1, kl->weights.n, wname);
        } else {
            char want[96], got[96];
            shape_str(want, sizeof want, p->ndim, NULL, p->dims);
            shape_str(got, sizeof got, ndim, dims, NULL);
            bool oihw = ndim == 4 && p->ndim == 4 && dims[0] == (hsize_t)p->dims[3] &&
                        dims[1] == (hsize_t)p->dims[2] && dims[2] == (hsize_t)p->dims[0] &&
                        dims[3] == (hsize_t)p->dims[1];
            st = fail(c, THAW_ERR_SHAPE,
                      "layer %s: expected shape %s, found %s (weight %d of %d, %s)%s", label, want,
                      got, index + 1, kl->weights.n, wname,
                      oihw ? "; the kernel looks channels-first (Theano ordering)" : "");
        }
        goto done;
    }

    float *dst = thaw_param_data(m, p);
    if (f64) {
        tmp = malloc(p->count * sizeof *tmp);
        if (!tmp) {
            st = fail(c, THAW_ERR_NOMEM, "out of memory reading layer %s", label);
            goto done;
        }
    }
    if (H5Dread(d, f64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                f64 ? (void *)tmp : (void *)dst) < 0) {
        st = fail_h5(c, THAW_ERR_FORMAT, "layer %s: cannot read weight %s", label, wname);
        goto done;
    }
    for (size_t i = 0; i < p->count; i++) {
        double v = f64 ? tmp[i] : (double)dst[i];
        if (!isfinite(v) || fabs(v) > FLT_MAX) {
            st = fail(c, THAW_ERR_NONFINITE,
                      "layer %s: weight %s has a non-finite%s value (%g) at index %zu", label,
                      wname, isfinite(v) ? " float32" : "", v, i);
            goto done;
        }
        if (is_variance && v < 0.0) {
            st = fail(c, THAW_ERR_FORMAT,
                      "layer %s: moving variance of channel %zu is %g (must be >= 0; weight %s)",
                      label, i, v, wname);
            goto done;
        }
        if (f64) dst[i] = (float)v;
    }
    if (c->info) {
        c->info->n_tensors++;
        c->info->n_values += p->count;
        c->info->n_float64 += f64;
    }

done:
    free(tmp);
    close_id(c, &space, H5Sclose, &st);
    close_id(c, &type, H5Tclose, &st);
    close_id(c, &d, H5Dclose, &st);
    return st;
}

static thaw_status read_layer(kctx *c, thaw_model *m, const thaw_layer *l, const klayer *kl,
                              bool allow_float64)
{
    char label[2 * THAW_NAME_MAX + 16];
    layer_label(c, kl, label, sizeof label);
    if (kl->weights.n != l->n_params) {
        char names[160] = "";
        int listed = 0;
        for (int k = 0; k < l->n_params; k++) {
            const char *slash = strrchr(m->params[l->first_param + k].name, '/');
            append_name(names, sizeof names, slash ? slash + 1 : "?", &listed);
        }
        return fail(c, THAW_ERR_SHAPE, "layer %s: %d weights in the file, expected %d (%s)", label,
                    kl->weights.n, l->n_params, names);
    }
    thaw_status st = THAW_OK;
    hid_t g = H5Gopen2(c->root, kl->name, H5P_DEFAULT);
    if (g < 0) return fail_h5(c, THAW_ERR_FORMAT, "layer %s: cannot open its group", label);
    for (int k = 0; st == THAW_OK && k < l->n_params; k++) {
        bool variance = l->kind == THAW_LAYER_BATCHNORM && k == 3;
        st = read_weight(c, g, kl, k, m, &m->params[l->first_param + k], variance, allow_float64);
    }
    close_id(c, &g, H5Gclose, &st);
    return st;
}

/* Every weighted model layer must have its group, and every group of the
 * file a model layer. The model's head layers are left as initialised when
 * new_head; the file's are skipped when ignore_top. */
static thaw_status match_layers(kctx *c, thaw_model *m, bool new_head, bool ignore_top)
{
    int expected = 0, missing = 0, listed = 0;
    char list[LIST_MAX] = "";
    const char *first = NULL;
    for (int i = 0; i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->n_params == 0 || (new_head && is_head_layer(l->name))) continue;
        expected++;
        klayer *kl = find_mapped(c, l->name);
        if (kl) {
            kl->used = true;
            continue;
        }
        char fname[2 * THAW_NAME_MAX + 16];
        file_name_for(c, l->name, fname, sizeof fname);
        if (!first) first = l->name;
        missing++;
        append_name(list, sizeof list, fname, &listed);
    }
    if (missing) {
        char fname[2 * THAW_NAME_MAX + 16];
        file_name_for(c, first, fname, sizeof fname);
        return fail(c, THAW_ERR_FORMAT,
                    "layer %s is missing: the %s model expects %d weighted layers and %d %s not in "
                    "the file: %s",
                    fname, m->cfg.arch, expected, missing, missing == 1 ? "is" : "are", list);
    }
    for (int i = 0; i < c->n_layers; i++) {
        klayer *kl = &c->layers[i];
        if (kl->used) continue;
        if (ignore_top && kl->thaw[0] && is_head_layer(kl->thaw)) {
            kl->used = true; /* ignore_top */
            continue;
        }
        return fail(c, THAW_ERR_FORMAT,
                    "unexpected weighted layer %s (%d weights): %s the %s model", kl->name,
                    kl->weights.n,
                    kl->thaw[0] ? "it is not part of"
                    : is_old(c) ? "not a keras-applications ResNet layer name, nor in"
                                : "not in",
                    m->cfg.arch);
    }
    return THAW_OK;
}

/* ------------------------------------------------------------ the loader */

void thaw_keras_options_default(thaw_keras_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->graph = THAW_KERAS_GRAPH_DEFAULT;
    opt->preprocess = THAW_KERAS_PREPROCESS_AUTO;
    opt->seed = 1;
}

static thaw_status check_options(kctx *c, const thaw_keras_options *o)
{
    if (o->in_h < 0 || o->in_w < 0 || o->in_h > 4096 || o->in_w > 4096)
        return fail(c, THAW_ERR_ARG, "input size %dx%d is out of range", o->in_h, o->in_w);
    if (o->classes < 0 || o->head_hidden < 0)
        return fail(c, THAW_ERR_ARG, "classes %d / head_hidden %d must be >= 0", o->classes,
                    o->head_hidden);
    if (o->graph != THAW_KERAS_GRAPH_DEFAULT && o->graph != THAW_KERAS_GRAPH_KA_1_0_5)
        return fail(c, THAW_ERR_ARG, "unknown graph choice %d", (int)o->graph);
    if (o->preprocess != THAW_KERAS_PREPROCESS_AUTO &&
        o->preprocess != THAW_KERAS_PREPROCESS_CAFFE && o->preprocess != THAW_KERAS_PREPROCESS_NONE)
        return fail(c, THAW_ERR_ARG, "unknown preprocessing choice %d", (int)o->preprocess);
    if (o->arch && o->arch[0] && !arch_by_name(o->arch))
        return fail(c, THAW_ERR_ARG,
                    "unknown architecture '%s' (resnet8/20/32/56, resnet18/34, resnet50/101/152)",
                    o->arch);
    return THAW_OK;
}

/* Opens the file; a missing file is an I/O error, anything not HDF5 a format one. */
static thaw_status open_file(kctx *c)
{
    struct stat sb;
    if (stat(c->path, &sb) != 0) return fail(c, THAW_ERR_IO, "cannot open: %s", strerror(errno));
    if (S_ISDIR(sb.st_mode)) return fail(c, THAW_ERR_IO, "is a directory, not a weight file");
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return fail(c, THAW_ERR_FORMAT, "the file is empty (0 bytes), not an HDF5 file");
    FILE *f = fopen(c->path, "rb");
    if (!f) return fail(c, THAW_ERR_IO, "cannot open: %s", strerror(errno));
    fclose(f);
    htri_t h5 = H5Fis_hdf5(c->path);
    if (h5 < 0) return fail_h5(c, THAW_ERR_IO, "cannot read the file");
    if (h5 == 0) return fail(c, THAW_ERR_FORMAT, "not an HDF5 file (no HDF5 signature)");
    c->file = H5Fopen(c->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (c->file < 0) return fail_h5(c, THAW_ERR_FORMAT, "the HDF5 file is truncated or corrupt");
    return THAW_OK;
}

/* Steps 2-6 on an open file; *out receives the model. */
static thaw_status load(kctx *c, const thaw_keras_options *o, thaw_model **out)
{
    thaw_keras_info *info = c->info;
    thaw_status st = open_root(c);
    if (st == THAW_OK && info) {
        st = read_info_string(c, c->root, "keras_version", info->keras_version,
                              sizeof info->keras_version);
        if (st == THAW_OK)
            st = read_info_string(c, c->file, "keras_version", info->keras_version,
                                  sizeof info->keras_version);
        if (st == THAW_OK)
            st = read_info_string(c, c->root, "backend", info->backend, sizeof info->backend);
        if (st == THAW_OK)
            st = read_info_string(c, c->file, "backend", info->backend, sizeof info->backend);
    }
    if (st == THAW_OK) st = read_layer_names(c);
    if (st == THAW_OK) st = read_layers(c);
    if (st == THAW_OK) st = map_layers(c);
    if (st != THAW_OK) return st;

    /* The stem: conv1's kernel (kh, kw, in_c, width). */
    const klayer *conv1 = find_mapped(c, "conv1_conv");
    if (!conv1)
        return fail(c, THAW_ERR_FORMAT, "layer %s is missing", is_old(c) ? "conv1" : "conv1_conv");
    int nd = 0;
    hsize_t kd[MAX_DIMS];
    st = dataset_shape(c, conv1, 0, &nd, kd);
    if (st != THAW_OK) return st;
    if (nd != 4 || kd[0] != kd[1] || (kd[0] != 3 && kd[0] != 7) || kd[2] < 1 || kd[2] > 64 ||
        kd[3] < 1 || kd[3] > 4096) {
        char got[96];
        shape_str(got, sizeof got, nd, kd, NULL);
        return fail(c, THAW_ERR_SHAPE,
                    "layer %s: kernel shape %s is neither an ImageNet-style 7x7 nor a CIFAR-style "
                    "3x3 stem (kh, kw, in, out)",
                    conv1->name, got);
    }
    bool cifar = kd[0] == 3;
    int in_c = (int)kd[2], width = (int)kd[3];

    const arch_row *arch = NULL;
    if (o->arch && o->arch[0]) {
        arch = arch_by_name(o->arch);
        if (arch->cifar != cifar)
            return fail(c, THAW_ERR_SHAPE, "layer %s: a %llux%llu stem does not fit %s",
                        conv1->name, (unsigned long long)kd[0], (unsigned long long)kd[1],
                        arch->name);
    } else {
        st = detect_arch(c, cifar, &arch);
        if (st != THAW_OK) return st;
    }
    if (info) snprintf(info->arch, sizeof info->arch, "%s", arch->name);

    /* The top: the classifier's kernel (in, classes), and head_dense (in, hidden). */
    const klayer *top = find_mapped(c, "predictions");
    const klayer *hidden = find_mapped(c, "head_dense");
    int top_classes = 0, file_hidden = 0;
    if (top) {
        st = dataset_shape(c, top, 0, &nd, kd);
        if (st != THAW_OK) return st;
        if (nd != 2 || kd[1] < 1 || kd[1] > 100000)
            return fail(c, THAW_ERR_SHAPE, "layer %s: the classifier kernel is not (in, classes)",
                        top->name);
        top_classes = (int)kd[1];
        if (info) {
            info->has_top = true;
            snprintf(info->top_name, sizeof info->top_name, "%s", top->name);
            info->top_classes = top_classes;
        }
    }
    if (hidden && top) {
        st = dataset_shape(c, hidden, 0, &nd, kd);
        if (st != THAW_OK) return st;
        if (nd != 2 || kd[1] < 1 || kd[1] > 100000)
            return fail(c, THAW_ERR_SHAPE, "layer head_dense: the kernel is not (in, units)");
        file_hidden = (int)kd[1];
    }

    thaw_model_config cfg;
    thaw_model_config_default(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "%s", arch->name);
    cfg.in_c = in_c;
    cfg.in_h = o->in_h ? o->in_h : cifar ? (in_c == 1 ? 28 : 32) : 224;
    cfg.in_w = o->in_w ? o->in_w : cfg.in_h;
    cfg.width = width;
    cfg.seed = o->seed ? o->seed : 1;
    cfg.bn_eps = is_old(c) ? 1e-3f : 1.001e-5f;
    cfg.pooling_avg = o->pooling_avg;
    cfg.dropout = o->dropout;

    bool top_from_file = top && !o->ignore_top;
    if (top_from_file) {
        if (o->classes > 0 && o->classes != top_classes)
            return fail(c, THAW_ERR_SHAPE,
                        "layer %s: the file's classifier has %d classes, the options ask for %d "
                        "(ignore_top gives a new head)",
                        top->name, top_classes, o->classes);
        if (o->head_hidden > 0 && o->head_hidden != file_hidden)
            return fail(
                c, THAW_ERR_ARG,
                "head_hidden %d needs a new head: the file has its own top (set ignore_top)",
                o->head_hidden);
        cfg.classes = top_classes;
        cfg.head_hidden = file_hidden;
    } else {
        if (o->head_hidden > 0 && o->classes == 0)
            return fail(c, THAW_ERR_ARG, "head_hidden %d needs classes > 0", o->head_hidden);
        cfg.classes = o->classes;
        cfg.head_hidden = o->head_hidden;
    }

    if (o->graph == THAW_KERAS_GRAPH_KA_1_0_5) {
        if (!is_old(c) || cifar)
            return fail(c, THAW_ERR_ARG,
                        "the keras-applications <= 1.0.5 graph (no pool1_pad) applies only to "
                        "old-name ImageNet files; this file has %s",
                        cifar ? "a CIFAR-style stem" : "current names");
        cfg.no_pool_pad = true;
    }
    bool caffe =
        o->preprocess == THAW_KERAS_PREPROCESS_CAFFE ||
        (o->preprocess == THAW_KERAS_PREPROCESS_AUTO && !cifar && arch->bottleneck && in_c == 3);
    if (caffe) {
        if (in_c != 3)
            return fail(c, THAW_ERR_ARG, "caffe preprocessing needs 3 input channels, not %d",
                        in_c);
        thaw_model_config_set_caffe(&cfg);
    }
    if (info) {
        info->bn_eps = cfg.bn_eps;
        info->no_pool_pad = cfg.no_pool_pad;
        info->caffe = caffe;
    }

    thaw_error merr = {0};
    thaw_model *m = NULL;
    /* Every parameter comes from the file unless a new head is built, which
     * needs its usual random initialisation. */
    bool new_head = !top_from_file && cfg.classes > 0;
    st = new_head ? thaw_model_new(&m, &cfg, &merr) : thaw_model_new_uninitialized(&m, &cfg, &merr);
    if (st != THAW_OK)
        return fail(c, st, "cannot build the %s model (%dx%dx%d input, width %d): %s", cfg.arch,
                    cfg.in_h, cfg.in_w, cfg.in_c, cfg.width, merr.msg);

    st = match_layers(c, m, !top_from_file, o->ignore_top);
    for (int i = 0; st == THAW_OK && i < m->n_layers; i++) {
        const thaw_layer *l = &m->layers[i];
        if (l->n_params == 0 || (!top_from_file && is_head_layer(l->name))) continue;
        st = read_layer(c, m, l, find_mapped(c, l->name), o->allow_float64);
        if (st == THAW_OK && info) info->n_layers_read++;
    }
    if (st != THAW_OK) {
        thaw_model_free(m);
        return st;
    }
    if (info) info->top_loaded = top_from_file;
    *out = m;
    return THAW_OK;
}

thaw_status thaw_keras_h5_load(thaw_model **out, const char *path, const thaw_keras_options *opt,
                               thaw_keras_info *info, thaw_error *err)
{
    *out = NULL;
    thaw_keras_options defaults;
    if (!opt) {
        thaw_keras_options_default(&defaults);
        opt = &defaults;
    }
    if (info) memset(info, 0, sizeof *info);
    kctx c = {
        .path = path, .err = err, .info = info, .file = H5I_INVALID_HID, .root = H5I_INVALID_HID};
    thaw_status st = check_options(&c, opt);
    if (st != THAW_OK) return st;

    /* Silence HDF5's own error printing on this thread; fail_h5() quotes it instead. */
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    if (H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data) < 0 ||
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0)
        return fail(&c, THAW_ERR_IO, "cannot initialise the HDF5 library");

    thaw_model *m = NULL;
    st = open_file(&c);
    if (st == THAW_OK) st = load(&c, opt, &m);

    for (int i = 0; i < c.n_layers; i++) strlist_free(&c.layers[i].weights);
    /* read_layers may have stopped with weights read into the next slot. */
    if (c.layers && c.n_layers < c.layer_names.n) strlist_free(&c.layers[c.n_layers].weights);
    free(c.layers);
    strlist_free(&c.layer_names);
    close_id(&c, &c.root, H5Gclose, &st);
    close_id(&c, &c.file, H5Fclose, &st);
    if (H5Eset_auto2(H5E_DEFAULT, old_func, old_data) < 0 && st == THAW_OK)
        st = fail(&c, THAW_ERR_IO, "cannot restore HDF5's error handler");

    if (st != THAW_OK) {
        thaw_model_free(m);
        return st;
    }
    *out = m;
    return THAW_OK;
}
