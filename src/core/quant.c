/* Quantization, SPEC §2.2: the one place where a real value becomes a byte. */
#include "internal.h"

#include <math.h>

uint8_t glnn_quantize(float v) {
    if (isnan(v)) return 0;
    if (v <= 0.0f) return 0;
    if (v >= 1.0f) return 255;
    return (uint8_t)floorf(255.0f * v + 0.5f);
}
