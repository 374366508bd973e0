/* Softmax and softmax cross-entropy: see loss.h. Each row subtracts its
 * maximum and sums the exponentials in double, so large logits neither
 * overflow nor lose the small terms. */
#include "kernels/loss.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

static float row_max(const float *z, int k)
{
    float mx = z[0];
    for (int j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx;
    return mx;
}

static double row_sumexp(const float *z, int k, float mx)
{
    double s = 0.0;
    for (int j = 0; j < k; j++) s += exp((double)z[j] - (double)mx);
    return s;
}

/* probs (n,k) = row-wise softmax of logits (n,k); probs may alias logits
 * (each row's sum is taken before the row is written). */
void thaw_softmax(float *probs, const float *logits, int n, int k)
{
    if (k <= 0) return;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        float *p = probs + (size_t)i * k;
        float mx = row_max(z, k);
        double inv = 1.0 / row_sumexp(z, k, mx);
        for (int j = 0; j < k; j++) p[j] = (float)(exp((double)z[j] - (double)mx) * inv);
    }
}

/* logits (n,k), labels (n); probs (n,k) or NULL overwritten with the softmax;
 * dlogits (n,k) or NULL overwritten with (softmax - onehot)/n. Returns the
 * mean over rows of logsumexp(z) - z[label], in double. A row whose label is
 * outside [0,k) gives a NaN loss and a NaN dlogits row. n <= 0 returns 0.
 * probs may alias logits (it is written last). */
double thaw_softmax_xent(float *dlogits, float *probs, const float *logits, const int32_t *labels,
                         int n, int k)
{
    if (n <= 0 || k <= 0) return 0.0;
    double total = 0.0, inv_n = 1.0 / n;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int32_t label = labels[i];
        bool valid = label >= 0 && label < k;
        float mx = row_max(z, k);
        double sum = row_sumexp(z, k, mx);
        double inv = 1.0 / sum;
        /* -log softmax(z)[label] = log(sum) - (z[label] - mx) */
        total += valid ? log(sum) - ((double)z[label] - (double)mx) : NAN;
        if (dlogits) {
            float *d = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++) {
                double pj = exp((double)z[j] - (double)mx) * inv;
                d[j] = valid ? (float)((pj - (j == label ? 1.0 : 0.0)) * inv_n) : NAN;
            }
        }
        if (probs) {
            float *p = probs + (size_t)i * k;
            for (int j = 0; j < k; j++) p[j] = (float)(exp((double)z[j] - (double)mx) * inv);
        }
    }
    return total * inv_n;
}
