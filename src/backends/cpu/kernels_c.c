/* Portable C kernels of the fast CPU back end: any CPU, and the fallback of every ISA.  Conv2D here is the
 * exact arithmetic: the reference's operations in the reference's order (SPEC §4.5), bit for bit, over the
 * work items of the pool. */
#include "backends/cpu/kernels.h"

#define POOL_FN(name) name##_c
#include "backends/cpu/ops_template.h"

void glnn_cpu_conv2d_exact(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch) {
    (void)b0;
    (void)b1;
    const glnn_cpu_conv2d_plan *p = job->plan;
    const int k = p->k, s = p->s, cg = p->cg, cout_g = p->cout_g, groups = p->groups;
    const int64_t W = p->w, H = p->h, C = p->c, Wo = p->wo, cout = p->cout;
    const float *table = p->q_table;
    float *acc = scratch;
    for (int64_t yo = r0; yo < r1; yo++)
        for (int64_t xo = 0; xo < Wo; xo++) {
            const int64_t y0 = yo * s - p->pad_top, x0 = xo * s - p->pad_left;
            for (int64_t co = 0; co < cout; co++)
                acc[co] = 0.0f;
            for (int g = 0; g < groups; g++)
                for (int ky = 0; ky < k; ky++) {
                    const int64_t yi = y0 + ky;
                    if (yi < 0 || yi >= H) continue;
                    for (int kx = 0; kx < k; kx++) {
                        const int64_t xi = x0 + kx;
                        if (xi < 0 || xi >= W) continue;
                        const uint8_t *px = job->in + (yi * W + xi) * C + (int64_t)g * cg;
                        const float *w = p->weights + ((int64_t)(ky * k + kx) * cg) * cout + (int64_t)g * cout_g;
                        float *a = acc + (int64_t)g * cout_g;
                        for (int ci = 0; ci < cg; ci++) {
                            const float v = table[px[ci]];
                            const float *wr = w + (int64_t)ci * cout;
                            for (int j = 0; j < cout_g; j++)
                                a[j] += wr[j] * v;
                        }
                    }
                }
            uint8_t *o = job->out + (yo * Wo + xo) * cout;
            const uint8_t *r = job->residual ? job->residual + (yo * Wo + xo) * cout : NULL;
            for (int64_t co = 0; co < cout; co++) {
                float z = acc[co];
                if (r) z += table[r[co]];
                z += p->bias[co];
                o[co] = glnn_cpu_act_q(p->act, z);
            }
        }
}

const glnn_cpu_kernels glnn_cpu_kernels_c = {
    .isa = GLNN_CPU_ISA_C,
    .int_lanes = 0,
    .float_lanes = 0,
    .conv2d = glnn_cpu_conv2d_exact,
    .pooling2d = glnn_cpu_pooling2d_c,
    .image_sampler = glnn_cpu_image_sampler_c,
    .upsampling2d = glnn_cpu_upsampling2d_c,
};
