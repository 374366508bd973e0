/* The seeded generator: reproducible, independent streams, sane moments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "testutil.h"

int main(void)
{
    thaw_rng a, b, c;
    thaw_rng_seed(&a, 123, 0);
    thaw_rng_seed(&b, 123, 0);
    thaw_rng_seed(&c, 123, 1);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = thaw_rng_u32(&a), y = thaw_rng_u32(&b), z = thaw_rng_u32(&c);
        same_ab &= x == y;
        same_ac &= x == z;
    }
    CHECK(same_ab);
    CHECK(!same_ac);

    thaw_rng_seed(&a, 7, 0);
    double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
    int counts[10] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = thaw_rng_uniform(&a);
        CHECK(u >= 0.0f && u < 1.0f);
        sum += u;
        sum2 += (double)u * u;
        counts[thaw_rng_below(&a, 10)]++;
        float g = thaw_rng_normal(&a);
        CHECK(isfinite(g));
        nsum += g;
        nsum2 += (double)g * g;
    }
    CHECK(fabs(sum / n - 0.5) < 0.005);
    CHECK(fabs(sum2 / n - 1.0 / 3.0) < 0.005);
    for (int k = 0; k < 10; k++)
        CHECK_MSG(abs(counts[k] - n / 10) < n / 100, "bucket %d: %d", k, counts[k]);
    CHECK(fabs(nsum / n) < 0.01);
    CHECK(fabs(nsum2 / n - 1.0) < 0.02);
    CHECK(thaw_rng_below(&a, 1) == 0);
    return thaw_test_finish();
}
