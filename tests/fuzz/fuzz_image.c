/* libFuzzer: the PNG, JPEG and BMP decoders on arbitrary bytes.  A decoded image is whole (every pixel
 * written: read back here under AddressSanitizer) and within the size limit; a failure fills the error and
 * returns no pixels. */
#include "fuzz.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    glnn_error err;
    uint8_t *sentinel = (uint8_t *)&err, *px = sentinel;
    int64_t h = -7, w = -7;
    glnn_status s = glnn_image_decode(data, size, &px, &h, &w, &err);
    if (s != GLNN_OK) {
        fuzz_check_error(s, &err);
        FUZZ_CHECK(px == sentinel && h == -7 && w == -7, "outputs changed by a failed decode");
        return 0;
    }
    FUZZ_CHECK(px != NULL && h >= 1 && w >= 1 && h <= (int64_t)1 << 28 && w <= ((int64_t)1 << 28) / h, "%lld×%lld",
               (long long)h, (long long)w);
    unsigned sum = 0;
    for (int64_t i = 0; i < h * w * 3; i++)
        sum += px[i];
    volatile unsigned sink = sum; /* every byte read: the buffer holds h·w·3 bytes */
    (void)sink;
    glnn_free(px);
    return 0;
}
