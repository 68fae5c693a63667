/* Quantization, SPEC §2.2: the one place where a real value becomes a byte, and the check of float user data. */
#include "internal.h"

#include <math.h>

uint8_t glnn_quantize(float v) {
    if (isnan(v)) return 0;
    if (v <= 0.0f) return 0;
    if (v >= 1.0f) return 255;
    return (uint8_t)floorf(255.0f * v + 0.5f);
}

/* Float user data must lie in [0, 1], up to half a step: [−1/510, 1 + 1/510]. */
static bool in_unit_range(float v) {
    return (double)v >= -1.0 / 510.0 && (double)v <= 1.0 + 1.0 / 510.0;
}

glnn_status glnn_check_user_floats(const char *what, const float *data, int64_t count, glnn_error *err) {
    int64_t bad = -1;
    for (int64_t i = 0; i < count && bad < 0; i++)
        if (!in_unit_range(data[i])) bad = i; /* NaN fails the comparisons too */
    if (bad < 0) return GLNN_OK;
    float v = data[bad];
    if (isnan(v)) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: NaN at flat index %lld", what, (long long)bad);
    if (isinf(v))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: %sinfinity at flat index %lld (float data must be finite, in [0, 1])", what,
                         v < 0 ? "-" : "+", (long long)bad);
    /* The span of the finite values says which mistake it is: 0…255 is 8-bit data given as floats. */
    float lo = v, hi = v;
    for (int64_t i = 0; i < count; i++)
        if (isfinite(data[i])) {
            lo = data[i] < lo ? data[i] : lo;
            hi = data[i] > hi ? data[i] : hi;
        }
    return glnn_fail(err, GLNN_ERR_ARGUMENT,
                     "%s: values must be in [0, 1]: got %g at flat index %lld (max %g, min %g); divide 8-bit data by "
                     "255, or pass them as bytes (uint8)",
                     what, (double)v, (long long)bad, (double)hi, (double)lo);
}

glnn_status glnn_quantize_user(const char *what, const float *data, uint8_t *out, int64_t count, glnn_error *err) {
    glnn_status s = glnn_check_user_floats(what, data, count, err);
    for (int64_t i = 0; s == GLNN_OK && i < count; i++)
        out[i] = glnn_quantize(data[i]);
    return s;
}

glnn_status glnn_quantize_f32(const float *data, uint8_t *out, int64_t count, glnn_error *err) {
    if ((!data || !out) && count > 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "quantize: no data or result");
    if (count < 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "quantize: invalid count %lld", (long long)count);
    return glnn_quantize_user("quantize", data, out, count, err);
}
