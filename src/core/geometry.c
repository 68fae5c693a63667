/* Convolution and pooling geometry, SPEC §3: the one place where window positions are computed. */
#include "internal.h"

glnn_axis glnn_axis_geometry(int64_t input, int k, int s, glnn_padding padding) {
    glnn_axis a = {0, 0};
    if (padding == GLNN_PADDING_VALID) {
        a.n = input < k ? 0 : (input - k) / s + 1;
        return a;
    }
    a.n = (input + s - 1) / s;
    int64_t p = (a.n - 1) * s + k - input;
    if (p < 0) p = 0;
    a.before = p / 2;
    return a;
}
