/* CPU feature probe and instruction-set choice for the fast CPU back end (cpu.h).  The probe runs once; its
 * result is cached in one atomic word, the back end's only global state. */
#include "backends/cpu/kernels.h"

#include <stdatomic.h>
#include <strings.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define GLNN_CPU_X86 1

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned probe(void) {
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28);
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = read_xcr0();
    const bool ymm_state = (xcr0 & 0x6) == 0x6;                /* SSE and AVX state */
    const bool zmm_state = ymm_state && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM upper halves, ZMM16-31 */
    const bool tile_state = (xcr0 & 0x60000) == 0x60000;       /* AMX XTILECFG, XTILEDATA */
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned b7 = b, c7 = c, d7 = d;
    unsigned a71 = 0;
    if (a >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        a71 = a;
    }
    const bool avx2 = b7 & (1u << 5);
    if (ymm_state && avx2 && fma) f |= GLNN_CPU_HAS_AVX2;
    const bool avx512 = (b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) && (b7 & (1u << 31));
    if (zmm_state && avx512 && (f & GLNN_CPU_HAS_AVX2)) {
        f |= GLNN_CPU_HAS_AVX512;
        if (c7 & (1u << 11)) f |= GLNN_CPU_HAS_AVX512VNNI;
    }
    if (ymm_state && (a71 & (1u << 4)) && (f & GLNN_CPU_HAS_AVX2)) f |= GLNN_CPU_HAS_AVXVNNI;
    if (tile_state && (d7 & (1u << 25))) f |= GLNN_CPU_HAS_AMX_INT8;
    return f;
}
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1ul << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1ul << 20)
#endif

static unsigned probe(void) {
    const unsigned long hw = getauxval(AT_HWCAP);
    unsigned f = 0;
    if (hw & HWCAP_ASIMD) f |= GLNN_CPU_HAS_NEON;
    if ((f & GLNN_CPU_HAS_NEON) && (hw & HWCAP_ASIMDDP)) f |= GLNN_CPU_HAS_DOTPROD;
    return f;
}
#elif defined(__aarch64__)
/* Advanced SIMD is part of AArch64; the dot-product extension is not looked for without Linux's HWCAP. */
static unsigned probe(void) {
    return GLNN_CPU_HAS_NEON;
}
#else
static unsigned probe(void) {
    return 0;
}
#endif

/* Bit 31 marks the word as probed. */
static atomic_uint probed;

unsigned glnn_cpu_features(void) {
    unsigned v = atomic_load_explicit(&probed, memory_order_acquire);
    if (!(v & 0x80000000u)) {
        v = probe() | 0x80000000u; /* the same value on every thread: a race only repeats the probe */
        atomic_store_explicit(&probed, v, memory_order_release);
    }
    return v & 0x7fffffffu;
}

const glnn_cpu_kernels *glnn_cpu_kernels_for(glnn_cpu_isa isa) {
    switch (isa) {
    case GLNN_CPU_ISA_C: return &glnn_cpu_kernels_c;
#if GLNN_CPU_X86
    case GLNN_CPU_ISA_AVX2: return &glnn_cpu_kernels_avx2;
    case GLNN_CPU_ISA_AVX512: return &glnn_cpu_kernels_avx512;
#endif
#if defined(__aarch64__)
    case GLNN_CPU_ISA_NEON: return &glnn_cpu_kernels_neon;
    case GLNN_CPU_ISA_NEONDOT: return &glnn_cpu_kernels_neondot;
#endif
    default: return NULL;
    }
}

bool glnn_cpu_isa_supported(glnn_cpu_isa isa) {
    const unsigned f = glnn_cpu_features();
    if (!glnn_cpu_kernels_for(isa)) return false;
    switch (isa) {
    case GLNN_CPU_ISA_C: return true;
    case GLNN_CPU_ISA_AVX2: return f & GLNN_CPU_HAS_AVX2;
    case GLNN_CPU_ISA_AVX512: return (f & GLNN_CPU_HAS_AVX512) && (f & GLNN_CPU_HAS_AVX512VNNI);
    case GLNN_CPU_ISA_NEON: return f & GLNN_CPU_HAS_NEON;
    case GLNN_CPU_ISA_NEONDOT: return (f & GLNN_CPU_HAS_NEON) && (f & GLNN_CPU_HAS_DOTPROD);
    default: return false;
    }
}

glnn_cpu_isa glnn_cpu_isa_best(void) {
    for (int i = GLNN_CPU_ISA_COUNT - 1; i > 0; i--)
        if (glnn_cpu_isa_supported((glnn_cpu_isa)i)) return (glnn_cpu_isa)i;
    return GLNN_CPU_ISA_C;
}

static const char *const names[GLNN_CPU_ISA_COUNT] = {"c", "avx2", "avx512", "neon", "neondot"};

const char *glnn_cpu_isa_name(glnn_cpu_isa isa) {
    if (isa == GLNN_CPU_ISA_AUTO) return "auto";
    return isa >= 0 && isa < GLNN_CPU_ISA_COUNT ? names[isa] : NULL;
}

glnn_status glnn_cpu_isa_parse(const char *name, glnn_cpu_isa *out, glnn_error *err) {
    if (!name || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU instruction set: no name given");
    if (strcasecmp(name, "auto") == 0) {
        *out = GLNN_CPU_ISA_AUTO;
        return GLNN_OK;
    }
    for (int i = 0; i < GLNN_CPU_ISA_COUNT; i++)
        if (strcasecmp(name, names[i]) == 0) {
            if (!glnn_cpu_isa_supported((glnn_cpu_isa)i))
                return glnn_fail(err, GLNN_ERR_DEVICE, "CPU instruction set '%s': not supported by this processor",
                                 name);
            *out = (glnn_cpu_isa)i;
            return GLNN_OK;
        }
    return glnn_fail(err, GLNN_ERR_ARGUMENT,
                     "CPU instruction set '%s': unknown; use auto, c, avx2, avx512, neon or neondot", name);
}

glnn_cpu_isa glnn_cpu_isa_resolve(glnn_cpu_isa isa) {
    return isa == GLNN_CPU_ISA_AUTO || !glnn_cpu_isa_supported(isa) ? glnn_cpu_isa_best() : isa;
}
