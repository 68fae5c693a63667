/* The cases of glnn's benchmark for the peer programs: see peers.h. */
#define _POSIX_C_SOURCE 200809L
#include "peers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* glnn's suite (tools/cmd_bench.c): name, k, s, SAME, cin, cout, groups, h, w, large. */
typedef struct {
    const char *name;
    int k, s, same, cin, cout, groups, h, w;
    bool large;
} conv_case;

static const conv_case conv_cases[] = {
    {"conv3x3_64_128", 3, 1, 1, 64, 64, 1, 128, 128, false},
    {"conv1x1_64_128", 1, 1, 0, 64, 64, 1, 128, 128, false},
    {"dw3x3_64_128", 3, 1, 1, 64, 64, 64, 128, 128, false},
    {"img3x3s2_32_256", 3, 2, 0, 3, 32, 1, 256, 256, false},
    {"conv3x3s2_32_64_112", 3, 2, 1, 32, 64, 1, 112, 112, false},
    {"group3x3_128_g8_56", 3, 1, 1, 128, 128, 8, 56, 56, false},
    {"pw_128_256_28", 1, 1, 0, 128, 256, 1, 28, 28, false},
    {"conv3x3_256_14", 3, 1, 1, 256, 256, 1, 14, 14, false},
    {"conv3x3_64_512", 3, 1, 1, 64, 64, 1, 512, 512, true},
};
#define N_CONV_CASES ((int)(sizeof conv_cases / sizeof conv_cases[0]))
#define DOG_CASE "dog_classifier"

int peer_case_count(void) {
    return N_CONV_CASES + 1;
}

const char *peer_case_name(int i) {
    return i < N_CONV_CASES ? conv_cases[i].name : DOG_CASE;
}

/* glnn's generator (tools/bench.c): xorshift64, seeded from the name. */
static uint32_t next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 32);
}

static uint64_t seed_of(const char *name) {
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (const char *p = name; *p; p++)
        seed = seed * 31 + (unsigned char)*p;
    return seed;
}

int peer_group_inputs(const peer_layer *l) {
    return l->cin / l->groups;
}

int64_t peer_output_count(const peer_layer *l) {
    return l->kind == PEER_DENSE ? l->cout : (int64_t)l->out_h * l->out_w * l->cout;
}

/* SPEC §3, one axis: output length and padding before/after. */
static void geometry(int size, int k, int s, int same, int *n, int *before, int *after) {
    *n = same ? (size + s - 1) / s : (size - k) / s + 1;
    int p = same ? (*n - 1) * s + k - size : 0;
    if (p < 0) p = 0;
    *before = p / 2;
    *after = p - p / 2;
}

/* A conv layer reading `input` (h×w×cin); weights and bias drawn from *seed as glnn's bench draws them. */
static bool conv_layer(peer_layer *l, const char *name, int k, int s, int same, int cin, int cout, int groups, int h,
                       int w, int input, bool clamp, uint64_t *seed) {
    memset(l, 0, sizeof *l);
    l->kind = PEER_CONV;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->k = k, l->s = s, l->same = same, l->cin = cin, l->cout = cout, l->groups = groups;
    l->in_h = h, l->in_w = w, l->input = input, l->other = -1, l->clamp = clamp;
    geometry(h, k, s, same, &l->out_h, &l->pad_top, &l->pad_bottom);
    geometry(w, k, s, same, &l->out_w, &l->pad_left, &l->pad_right);
    int cg = peer_group_inputs(l);
    int64_t nw = (int64_t)k * k * cg * cout;
    l->multiply_adds = (int64_t)l->out_h * l->out_w * cout * k * k * cg;
    l->weights = malloc((size_t)nw * sizeof(float));
    l->bias = malloc((size_t)cout * sizeof(float));
    if (!l->weights || !l->bias) return false;
    float scale = 8.0f / (float)(k * k * cg);
    for (int64_t i = 0; i < nw; i++)
        l->weights[i] = ((float)(next_random(seed) >> 8) / 16777216.0f - 0.5f) * scale;
    for (int i = 0; i < cout; i++)
        l->bias[i] = (float)(next_random(seed) >> 8) / 16777216.0f - 0.5f;
    return true;
}

static bool random_input(peer_case *c, uint64_t *seed) {
    int64_t n = (int64_t)c->in_h * c->in_w * c->in_c;
    c->input = malloc((size_t)n);
    if (!c->input) return false;
    for (int64_t i = 0; i < n; i++)
        c->input[i] = (uint8_t)(next_random(seed) >> 24);
    return true;
}

/* The dog classifier of SPEC §10: the picture (butterfly.bmp, 256×256) resized to 385×385, its 41 Conv2D with
 * the model's shapes, groups, strides and padding, the 17 residual adds, the average pooling and the Dense layer.
 * Weights are random (glnn's generator, seeded with each op's name); channel shuffles (views in glnn) and the
 * Softmax over 120 values are left out. */
static bool build_dog(peer_case *c) {
    static const struct {
        int channels, stages, pw_groups, dw_groups, scale_out, scale_groups;
    } blocks[5] = {{32, 2, 1, 8, 32, 4},
                   {32, 3, 1, 8, 64, 4},
                   {64, 3, 2, 16, 128, 8},
                   {128, 4, 4, 32, 192, 16},
                   {192, 5, 6, 48, 192, 24}};
    snprintf(c->name, sizeof c->name, "%s", DOG_CASE);
    c->in_h = c->in_w = 256;
    c->in_c = 3;
    c->layers = calloc(64, sizeof(peer_layer));
    if (!c->layers) return false;
    c->allocated = 64;
    uint64_t seed = seed_of(DOG_CASE);
    if (!random_input(c, &seed)) return false;
    int n = 0;
    peer_layer *l = &c->layers[n++];
    l->kind = PEER_RESIZE;
    snprintf(l->name, sizeof l->name, "input");
    l->cin = l->cout = 3, l->in_h = l->in_w = 256, l->out_h = l->out_w = 385, l->input = -1, l->other = -1;
    seed = seed_of("b0-conv");
    if (!conv_layer(&c->layers[n++], "b0-conv", 5, 2, 0, 3, 32, 1, 385, 385, 0, true, &seed)) return false;
    for (int b = 0; b < 5; b++) {
        int ch = blocks[b].channels;
        for (int st = 1; st <= blocks[b].stages; st++) {
            int stage_input = n - 1, size = c->layers[n - 1].out_h;
            char name[32];
            snprintf(name, sizeof name, "b%d-stage%d-pw", b + 1, st);
            seed = seed_of(name);
            if (!conv_layer(&c->layers[n++], name, 1, 1, 1, ch, ch, blocks[b].pw_groups, size, size, stage_input, true,
                            &seed))
                return false;
            snprintf(name, sizeof name, "b%d-stage%d-dw", b + 1, st);
            seed = seed_of(name);
            if (!conv_layer(&c->layers[n], name, 3, 1, 1, ch, ch, blocks[b].dw_groups, size, size, n - 1, false, &seed))
                return false;
            n++;
            l = &c->layers[n++];
            l->kind = PEER_ADD;
            snprintf(l->name, sizeof l->name, "b%d-stage%d-add", b + 1, st);
            l->cin = l->cout = ch, l->in_h = l->in_w = l->out_h = l->out_w = size;
            l->input = n - 2, l->other = stage_input;
        }
        char name[32];
        snprintf(name, sizeof name, "b%d-scale", b + 1);
        seed = seed_of(name);
        int size = c->layers[n - 1].out_h;
        if (!conv_layer(&c->layers[n], name, 3, 2, 0, ch, blocks[b].scale_out, blocks[b].scale_groups, size, size,
                        n - 1, true, &seed))
            return false;
        n++;
    }
    seed = seed_of("b6-conv");
    if (!conv_layer(&c->layers[n], "b6-conv", 3, 1, 0, 192, 192, 24, 5, 5, n - 1, true, &seed)) return false;
    n++;
    l = &c->layers[n++];
    l->kind = PEER_POOL;
    snprintf(l->name, sizeof l->name, "b7-pool");
    l->cin = l->cout = 192, l->in_h = l->in_w = 3, l->out_h = l->out_w = 1, l->input = n - 2, l->other = -1;
    l = &c->layers[n++];
    l->kind = PEER_DENSE;
    snprintf(l->name, sizeof l->name, "Dense");
    l->cin = 192, l->cout = 120, l->in_h = l->in_w = l->out_h = l->out_w = 1, l->input = n - 2, l->other = -1;
    l->multiply_adds = 192 * 120;
    l->weights = malloc(192 * 120 * sizeof(float));
    l->bias = malloc(120 * sizeof(float));
    if (!l->weights || !l->bias) return false;
    seed = seed_of("Dense");
    for (int i = 0; i < 192 * 120; i++)
        l->weights[i] = ((float)(next_random(&seed) >> 8) / 16777216.0f - 0.5f) * (8.0f / 192);
    for (int i = 0; i < 120; i++)
        l->bias[i] = (float)(next_random(&seed) >> 8) / 16777216.0f - 0.5f;
    c->n_layers = n;
    return true;
}

bool peer_case_build(int i, peer_case *c) {
    memset(c, 0, sizeof *c);
    bool ok;
    if (i >= N_CONV_CASES) {
        ok = build_dog(c);
    } else {
        const conv_case *cc = &conv_cases[i];
        snprintf(c->name, sizeof c->name, "%s", cc->name);
        c->in_h = cc->h, c->in_w = cc->w, c->in_c = cc->cin, c->large = cc->large;
        c->n_layers = 1;
        c->layers = calloc(1, sizeof(peer_layer));
        c->allocated = c->layers ? 1 : 0;
        uint64_t seed = seed_of(cc->name);
        /* glnn draws the weights, then the bias, then the input from one sequence */
        ok = c->layers && conv_layer(c->layers, "conv", cc->k, cc->s, cc->same, cc->cin, cc->cout, cc->groups, cc->h,
                                     cc->w, -1, true, &seed);
        ok = ok && random_input(c, &seed);
    }
    for (int j = 0; ok && j < c->n_layers; j++)
        c->multiply_adds += c->layers[j].multiply_adds;
    if (!ok) peer_case_free(c);
    return ok;
}

void peer_case_free(peer_case *c) {
    for (int j = 0; j < c->allocated; j++) {
        free(c->layers[j].weights);
        free(c->layers[j].bias);
    }
    free(c->layers);
    free(c->input);
    memset(c, 0, sizeof *c);
}

bool peer_matches(const char *name, const char *filter) {
    for (const char *p = filter;; p++) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        for (const char *q = name; n && strlen(q) >= n; q++)
            if (strncmp(q, p, n) == 0) return true;
        if (!end) return false;
        p = end;
    }
}

int peer_plan_slots(const peer_case *c, int *slot) {
    int holder[64]; /* the layer whose output each slot holds, -1 free */
    int n_slots = 0;
    for (int j = 0; j < c->n_layers; j++) {
        /* free the slots whose tensor nobody reads from layer j on */
        for (int s = 0; s < n_slots; s++) {
            int t = holder[s];
            if (t < 0) continue;
            bool read = t == c->n_layers - 1;
            for (int r = j; r < c->n_layers && !read; r++)
                read = c->layers[r].input == t || c->layers[r].other == t;
            if (!read) holder[s] = -1;
        }
        int s = 0;
        while (s < n_slots && holder[s] >= 0)
            s++;
        if (s == n_slots) n_slots++;
        holder[s] = j;
        slot[j] = s;
    }
    return n_slots;
}

static double clamp01(double v) {
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

void peer_reference_layer(const peer_layer *l, const float *w, const float *b, const float *in, const float *other,
                          float *out) {
    switch (l->kind) {
    case PEER_CONV: {
        int cg = peer_group_inputs(l), cog = l->cout / l->groups;
        for (int yo = 0; yo < l->out_h; yo++)
            for (int xo = 0; xo < l->out_w; xo++)
                for (int co = 0; co < l->cout; co++) {
                    int g = co / cog;
                    double acc = 0;
                    for (int ky = 0; ky < l->k; ky++) {
                        int y = yo * l->s - l->pad_top + ky;
                        if (y < 0 || y >= l->in_h) continue;
                        for (int kx = 0; kx < l->k; kx++) {
                            int x = xo * l->s - l->pad_left + kx;
                            if (x < 0 || x >= l->in_w) continue;
                            const float *px = in + ((int64_t)y * l->in_w + x) * l->cin + g * cg;
                            for (int ci = 0; ci < cg; ci++)
                                acc += (double)w[((ky * l->k + kx) * cg + ci) * l->cout + co] * px[ci];
                        }
                    }
                    acc += b[co];
                    out[((int64_t)yo * l->out_w + xo) * l->cout + co] = (float)(l->clamp ? clamp01(acc) : acc);
                }
        break;
    }
    case PEER_ADD:
        for (int64_t i = 0; i < peer_output_count(l); i++)
            out[i] = (float)clamp01((double)in[i] + other[i]);
        break;
    case PEER_RESIZE: /* bilinear, half-pixel centers, edges clamped */
        for (int y = 0; y < l->out_h; y++)
            for (int x = 0; x < l->out_w; x++) {
                double sy = (y + 0.5) * l->in_h / l->out_h - 0.5, sx = (x + 0.5) * l->in_w / l->out_w - 0.5;
                sy = sy < 0 ? 0 : sy, sx = sx < 0 ? 0 : sx;
                int y0 = (int)sy, x0 = (int)sx;
                int y1 = y0 + 1 < l->in_h ? y0 + 1 : y0, x1 = x0 + 1 < l->in_w ? x0 + 1 : x0;
                double fy = sy - y0, fx = sx - x0;
                for (int ch = 0; ch < l->cin; ch++) {
#define AT(yy, xx) (double)in[((int64_t)(yy)*l->in_w + (xx)) * l->cin + ch]
                    double top = AT(y0, x0) + (AT(y0, x1) - AT(y0, x0)) * fx;
                    double bottom = AT(y1, x0) + (AT(y1, x1) - AT(y1, x0)) * fx;
#undef AT
                    out[((int64_t)y * l->out_w + x) * l->cin + ch] = (float)(top + (bottom - top) * fy);
                }
            }
        break;
    case PEER_POOL:
        for (int ch = 0; ch < l->cin; ch++) {
            double s = 0;
            for (int i = 0; i < l->in_h * l->in_w; i++)
                s += in[(int64_t)i * l->cin + ch];
            out[ch] = (float)(s / (l->in_h * l->in_w));
        }
        break;
    case PEER_DENSE:
        for (int o = 0; o < l->cout; o++) {
            double s = b[o];
            for (int i = 0; i < l->cin; i++)
                s += (double)w[i * l->cout + o] * in[i];
            out[o] = (float)s;
        }
        break;
    }
}

static void usage(FILE *f, const char *program, const char *types_help) {
    fprintf(f,
            "usage: %s [--threads N] [--runs N] [--filter S] [--types LIST] [--json] [--check] [--layers] [--list] "
            "[--list-types]\n"
            "Times glnn's benchmark layers (same shapes and data as `glnn bench`) with this peer.\n"
            "  --threads N   worker threads (default 1)\n"
            "  --runs N      timed runs after a warm-up of at least 200 ms (default 20)\n"
            "  --filter S    comma-separated parts of case names (default: every case but conv3x3_64_512)\n"
            "  --types LIST  comma-separated data types, of: %s (default: all)\n"
            "  --json        one JSON object per line: name, peer, threads, runs, median_ms, min_ms, gmacs\n"
            "  --check       first compare every layer's output with a plain double-precision reference\n"
            "  --layers      also time each layer of a multi-layer case alone (rows named case/layer)\n"
            "  --list        print the case names and multiply-adds\n"
            "  --list-types  print the data types this program has\n",
            program, types_help);
}

bool peer_parse_args(int argc, char **argv, const char *program, const char *types_help, peer_options *o) {
    memset(o, 0, sizeof *o);
    o->threads = 1;
    o->runs = 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--check")) {
            o->check = true;
        } else if (!strcmp(a, "--layers")) {
            o->layers = true;
        } else if (!strcmp(a, "--list")) {
            o->list = true;
        } else if (!strcmp(a, "--threads") && has_value) {
            o->threads = atoi(argv[++i]);
        } else if (!strcmp(a, "--runs") && has_value) {
            o->runs = atoi(argv[++i]);
        } else if (!strcmp(a, "--filter") && has_value) {
            o->filter = argv[++i];
        } else if (!strcmp(a, "--types") && has_value) {
            o->types = argv[++i];
        } else if (!strcmp(a, "--list-types")) {
            printf("%s\n", types_help);
            exit(0);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, program, types_help);
            exit(0);
        } else {
            fprintf(stderr, "%s: unknown argument or missing value: %s\n", program, a);
            usage(stderr, program, types_help);
            return false;
        }
    }
    if (o->threads < 1 || o->threads > 256 || o->runs < 1 || o->runs > 100000) {
        fprintf(stderr, "%s: --threads takes 1 to 256, --runs 1 to 100000\n", program);
        return false;
    }
    return true;
}

int peer_list_cases(void) {
    for (int i = 0; i < peer_case_count(); i++) {
        peer_case c;
        if (!peer_case_build(i, &c)) return 1;
        printf("%-22s %12lld multiply-adds, %d layers%s\n", c.name, (long long)c.multiply_adds, c.n_layers,
               c.large ? " (only with --filter)" : "");
        peer_case_free(&c);
    }
    return 0;
}

bool peer_case_selected(int i, const peer_options *o) {
    if (o->filter) return peer_matches(peer_case_name(i), o->filter);
    return i >= N_CONV_CASES || !conv_cases[i].large;
}

bool peer_type_selected(const char *t, const peer_options *o) {
    if (!o->types) return true;
    size_t n = strlen(t);
    for (const char *p = o->types;; p++) {
        const char *end = strchr(p, ',');
        size_t m = end ? (size_t)(end - p) : strlen(p);
        if (m == n && strncmp(p, t, n) == 0) return true;
        if (!end) return false;
        p = end;
    }
}

double peer_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bool peer_time(bool (*fn)(void *ctx), void *ctx, int runs, double *median_ms, double *min_ms) {
    return peer_time_warm(fn, ctx, runs, 200, median_ms, min_ms);
}

bool peer_time_warm(bool (*fn)(void *ctx), void *ctx, int runs, double warmup_ms, double *median_ms, double *min_ms) {
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) return false;
    bool ok = true;
    double t0 = peer_now_ms();
    for (int i = 0; ok && i < 1000 && (i == 0 || peer_now_ms() - t0 < warmup_ms); i++)
        ok = fn(ctx);
    for (int i = 0; ok && i < runs; i++) {
        t0 = peer_now_ms();
        ok = fn(ctx);
        t[i] = peer_now_ms() - t0;
    }
    if (ok) {
        qsort(t, (size_t)runs, sizeof *t, compare_doubles);
        *median_ms = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        *min_ms = t[0];
    }
    free(t);
    return ok;
}

void peer_report_header(const peer_options *o) {
    if (o->json) return;
    printf("%-30s %-13s %7s %10s %10s %10s %12s\n", "name", "peer", "threads", "median ms", "min ms", "G MAC/s",
           "max diff");
}

void peer_report(const peer_options *o, const peer_case *c, const char *peer, double median_ms, double min_ms,
                 double max_diff, const char *unit) {
    double gmacs = (double)c->multiply_adds / median_ms / 1e6;
    if (o->json) {
        printf("{\"name\": \"%s\", \"peer\": \"%s\", \"threads\": %d, \"runs\": %d, \"median_ms\": %.4f, "
               "\"min_ms\": %.4f, \"gmacs\": %.3f, \"multiply_adds\": %lld",
               c->name, peer, o->threads, o->runs, median_ms, min_ms, gmacs, (long long)c->multiply_adds);
        if (max_diff >= 0) printf(", \"max_diff\": %.6g, \"diff_unit\": \"%s\"", max_diff, unit);
        printf("}\n");
    } else {
        char diff[32] = "-";
        if (max_diff >= 0) snprintf(diff, sizeof diff, "%.3g %s", max_diff, unit);
        printf("%-30s %-13s %7d %10.3f %10.3f %10.2f %12s\n", c->name, peer, o->threads, median_ms, min_ms, gmacs,
               diff);
    }
    fflush(stdout);
}
