/* Image-folder loader: list and sort classes and files, then decode and
 * resize each image into one dataset. */
#include "data/folder.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/png.h"

/* A growable list of owned strings. */
typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static bool list_push(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy) return false;
    l->v[l->n++] = copy;
    return true;
}

static void list_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (n < k) return false;
    for (size_t i = 0; i < k; i++)
        if (tolower((unsigned char)s[n - k + i]) != suffix[i]) return false;
    return true;
}

/* Extensions Keras reads but this build does not decode. */
static bool other_image(const char *name)
{
    return ends_with_ci(name, ".jpg") || ends_with_ci(name, ".jpeg") ||
           ends_with_ci(name, ".bmp") || ends_with_ci(name, ".gif");
}

static char *join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + 1 + strlen(b) + (c ? 1 + strlen(c) : 0) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    if (c)
        snprintf(s, n, "%s/%s/%s", a, b, c);
    else
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* Entries of dir (not hidden) that are directories (want_dirs) or regular
 * files ending in ".png", sorted. *others counts skipped files with another
 * image extension. */
static thaw_status list_dir(name_list *out, const char *dir, bool want_dirs, int *others,
                            thaw_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return thaw_error_set(err, THAW_ERR_IO, "cannot open folder '%s': %s", dir,
                              strerror(errno));
    thaw_status st = THAW_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                st = thaw_error_set(err, THAW_ERR_IO, "cannot list folder '%s': %s", dir,
                                    strerror(errno));
            break;
        }
        if (e->d_name[0] == '.') continue;
        if (!want_dirs && !ends_with_ci(e->d_name, ".png")) {
            if (others && other_image(e->d_name)) (*others)++;
            continue;
        }
        char *path = join(dir, e->d_name, NULL);
        if (!path) {
            st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory listing '%s'", dir);
            break;
        }
        struct stat sb;
        bool keep = stat(path, &sb) == 0 && (want_dirs ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
        free(path);
        if (keep && !list_push(out, e->d_name)) {
            st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory listing '%s'", dir);
            break;
        }
    }
    closedir(d);
    if (st == THAW_OK && out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return st;
}

void thaw_folder_resize(float *dst, int dh, int dw, const float *src, int sh, int sw, int c)
{
    if (dh == sh && dw == sw) {
        memcpy(dst, src, (size_t)dh * dw * c * sizeof *dst);
        return;
    }
    /* Scale as float and source coordinates as float, as TF computes them. */
    float scale_y = (float)sh / (float)dh, scale_x = (float)sw / (float)dw;
    for (int y = 0; y < dh; y++) {
        float sy = ((float)y + 0.5f) * scale_y - 0.5f;
        float fy = floorf(sy);
        int y0 = fy < 0 ? 0 : (int)fy;
        if (y0 > sh - 1) y0 = sh - 1;
        int y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        float ly = sy < 0 ? 0.0f : sy - fy;
        const float *r0 = src + (size_t)y0 * sw * c, *r1 = src + (size_t)y1 * sw * c;
        float *out = dst + (size_t)y * dw * c;
        for (int x = 0; x < dw; x++) {
            float sx = ((float)x + 0.5f) * scale_x - 0.5f;
            float fx = floorf(sx);
            int x0 = fx < 0 ? 0 : (int)fx;
            if (x0 > sw - 1) x0 = sw - 1;
            int x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            float lx = sx < 0 ? 0.0f : sx - fx;
            const float *a = r0 + (size_t)x0 * c, *b = r0 + (size_t)x1 * c;
            const float *p = r1 + (size_t)x0 * c, *q = r1 + (size_t)x1 * c;
            for (int k = 0; k < c; k++) {
                float top = a[k] + (b[k] - a[k]) * lx;
                float bot = p[k] + (q[k] - p[k]) * lx;
                out[(size_t)x * c + k] = top + (bot - top) * ly;
            }
        }
    }
}

/* The scan of root: classes and, per image, its class and file name. */
typedef struct folder_scan {
    name_list classes;
    name_list files; /* "<class>/<file>" */
    int *label;      /* files.n */
} folder_scan;

static void scan_free(folder_scan *s)
{
    list_free(&s->classes);
    list_free(&s->files);
    free(s->label);
    s->label = NULL;
}

static thaw_status scan_root(folder_scan *s, const char *root, int max_images, thaw_error *err)
{
    struct stat sb;
    if (stat(root, &sb) != 0)
        return thaw_error_set(err, THAW_ERR_IO, "cannot open image folder '%s': %s", root,
                              strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return thaw_error_set(err, THAW_ERR_IO, "image folder '%s' is not a directory", root);
    thaw_status st = list_dir(&s->classes, root, true, NULL, err);
    if (st != THAW_OK) return st;
    if (s->classes.n == 0) {
        name_list loose = {0};
        int others = 0;
        st = list_dir(&loose, root, false, &others, err);
        size_t n = loose.n;
        list_free(&loose);
        if (st != THAW_OK) return st;
        if (n + (size_t)others > 0)
            return thaw_error_set(err, THAW_ERR_FORMAT,
                                  "no class folders in '%s' (expected %s/<class>/*.png; the %zu "
                                  "images directly in it need a folder per class)",
                                  root, root, n + (size_t)others);
        return thaw_error_set(err, THAW_ERR_FORMAT,
                              "no class folders in '%s' (expected %s/<class>/*.png)", root, root);
    }
    for (size_t k = 0; k < s->classes.n; k++) {
        const char *cls = s->classes.v[k];
        char *dir = join(root, cls, NULL);
        if (!dir) return thaw_error_set(err, THAW_ERR_NOMEM, "out of memory listing '%s'", root);
        name_list names = {0};
        int others = 0;
        st = list_dir(&names, dir, false, &others, err);
        if (st == THAW_OK && names.n == 0) {
            if (others)
                st = thaw_error_set(err, THAW_ERR_FORMAT,
                                    "class folder '%s' has no .png images (%d .jpg/.jpeg/.bmp/"
                                    ".gif files skipped: only PNG is supported)",
                                    dir, others);
            else
                st = thaw_error_set(err, THAW_ERR_FORMAT, "class folder '%s' has no .png images",
                                    dir);
        }
        for (size_t i = 0; st == THAW_OK && i < names.n; i++) {
            if (s->files.n >= (size_t)max_images) {
                st = thaw_error_set(err, THAW_ERR_UNSUPPORTED,
                                    "image folder '%s' has more than %d images, the limit", root,
                                    max_images);
                break;
            }
            char *rel = join(cls, names.v[i], NULL);
            if (!rel || !list_push(&s->files, rel))
                st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory listing '%s'", dir);
            free(rel);
        }
        if (st == THAW_OK) {
            int *label = realloc(s->label, (s->files.n ? s->files.n : 1) * sizeof *label);
            if (!label)
                st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory");
            else {
                s->label = label;
                for (size_t i = s->files.n - names.n; i < s->files.n; i++) label[i] = (int)k;
            }
        }
        list_free(&names);
        free(dir);
        if (st != THAW_OK) return st;
    }
    return THAW_OK;
}

static thaw_status check_options(const thaw_folder_options *opt, thaw_error *err)
{
    if (opt->h < 1 || opt->h > 4096 || opt->w < 1 || opt->w > 4096)
        return thaw_error_set(err, THAW_ERR_ARG, "image size %dx%d is out of range 1..4096", opt->h,
                              opt->w);
    if (opt->c != 1 && opt->c != 3)
        return thaw_error_set(err, THAW_ERR_ARG, "%d channels asked for, expected 1 or 3", opt->c);
    if (opt->max_images < 0)
        return thaw_error_set(err, THAW_ERR_ARG, "max_images %d is negative", opt->max_images);
    return THAW_OK;
}

thaw_status thaw_folder_load(thaw_folder *out, const char *root, const thaw_folder_options *opt,
                             thaw_error *err)
{
    memset(out, 0, sizeof *out);
    thaw_status st = check_options(opt, err);
    if (st != THAW_OK) return st;
    int max_images = opt->max_images ? opt->max_images : THAW_FOLDER_MAX_IMAGES;
    size_t max_bytes = opt->max_bytes ? opt->max_bytes : THAW_FOLDER_MAX_BYTES;

    folder_scan scan = {0};
    st = scan_root(&scan, root, max_images, err);
    if (st != THAW_OK) {
        scan_free(&scan);
        return st;
    }
    size_t n = scan.files.n;
    size_t img = (size_t)opt->h * opt->w * opt->c;
    if (n > max_bytes / sizeof(float) / img) {
        st = thaw_error_set(err, THAW_ERR_UNSUPPORTED,
                            "image folder '%s': %zu images of %dx%dx%d need %.1f MB, more than "
                            "the limit of %.1f MB",
                            root, n, opt->h, opt->w, opt->c,
                            (double)n * (double)img * sizeof(float) / 1e6, (double)max_bytes / 1e6);
        scan_free(&scan);
        return st;
    }
    thaw_dataset *d = &out->data;
    d->x = malloc(n * img * sizeof(float));
    d->y = malloc(n * sizeof(int32_t));
    if (!d->x || !d->y) {
        st =
            thaw_error_set(err, THAW_ERR_NOMEM, "out of memory loading '%s' (%zu images)", root, n);
        goto fail;
    }
    d->n = (int)n;
    d->h = opt->h;
    d->w = opt->w;
    d->c = opt->c;
    d->classes = (int)scan.classes.n;

    if (opt->progress && opt->progress(opt->progress_ctx, 0, (int)n) != 0) {
        st = thaw_error_set(err, THAW_ERR_CANCELLED,
                            "loading '%s' cancelled before the first "
                            "image",
                            root);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        char *path = join(root, scan.files.v[i], NULL);
        if (!path) {
            st = thaw_error_set(err, THAW_ERR_NOMEM, "out of memory loading '%s'", root);
            goto fail;
        }
        thaw_png_image im;
        st = thaw_png_read(&im, path, opt->c, err);
        free(path);
        if (st != THAW_OK) goto fail;
        thaw_folder_resize(d->x + i * img, opt->h, opt->w, im.px, im.h, im.w, opt->c);
        thaw_png_image_free(&im);
        d->y[i] = scan.label[i];
        if (opt->progress && opt->progress(opt->progress_ctx, (int)i + 1, (int)n) != 0) {
            st = thaw_error_set(err, THAW_ERR_CANCELLED,
                                "loading '%s' cancelled after %zu of %zu images", root, i + 1, n);
            goto fail;
        }
    }
    /* Hand the name lists over. */
    out->class_names = scan.classes.v;
    out->files = scan.files.v;
    scan.classes = (name_list){0};
    scan.files = (name_list){0};
    scan_free(&scan);
    return THAW_OK;
fail:
    scan_free(&scan);
    thaw_dataset_free(d);
    memset(out, 0, sizeof *out);
    return st;
}

void thaw_folder_free(thaw_folder *f)
{
    for (int k = 0; f->class_names && k < f->data.classes; k++) free(f->class_names[k]);
    for (int i = 0; f->files && i < f->data.n; i++) free(f->files[i]);
    free(f->class_names);
    free(f->files);
    thaw_dataset_free(&f->data);
    memset(f, 0, sizeof *f);
}
