/* The cases that glnn's benchmark times (tools/cmd_bench.c), described once for the peer programs
 * (peer_xnnpack.c, peer_opencv.cpp): layers, data, timing, arguments, output, and a plain reference that checks
 * that a peer computes the layer it claims to. Not part of the library; built only by `make bench-peers`. */
#ifndef GLNN_PEERS_H
#define GLNN_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PEER_CONV, /* Conv2D: k×k, stride, SAME/VALID (SPEC §3), groups, bias; clamp to [0, 1] unless followed by an add */
    PEER_ADD,  /* residual: input + other, clamped to [0, 1] (glnn adds it inside the Conv2D, before the activation) */
    PEER_RESIZE, /* bilinear resize of the picture to the model's input (glnn's ImageSampler) */
    PEER_POOL,   /* average over the whole (3×3) input (glnn's Pooling2D AVERAGE 3, VALID) */
    PEER_DENSE,  /* fully connected with bias, float output (glnn's Dense) */
} peer_kind;

typedef struct peer_layer {
    peer_kind kind;
    char name[32];
    int k, s, same;        /* conv: kernel, stride, SAME padding (else VALID) */
    int cin, cout, groups; /* conv; dense: cin inputs, cout outputs */
    int in_h, in_w, out_h, out_w;
    int pad_top, pad_left, pad_bottom, pad_right; /* SPEC §3: the extra row/column of an odd padding at the end */
    int input, other;      /* the layers read: -1 is the case's input; other: the add's second input */
    bool clamp;            /* conv: output clamped to [0, 1] (false: it feeds an add, which clamps) */
    float *weights;        /* conv: HWIO as glnn reads them, w(ky, kx, ci, co) at ((ky·k + kx)·Cg + ci)·Cout + co;
                              dense: [cin][cout] */
    float *bias;           /* cout values */
    int64_t multiply_adds; /* as glnn counts them (SPEC §4.8) */
} peer_layer;

typedef struct peer_case {
    char name[40];
    int in_h, in_w, in_c; /* the case's input, NHWC */
    uint8_t *input;       /* in_h·in_w·in_c bytes q, standing for q/255 (SPEC §2.1) */
    int n_layers;
    peer_layer *layers;    /* in execution order; the last one is the output */
    int64_t multiply_adds; /* the sum over the layers, as glnn reports it */
    bool large;            /* not in the default set (glnn runs it on hardware GPUs only) */
    int allocated;         /* layers allocated (n_layers once built) */
} peer_case;

/* Every case glnn's bench knows, with the data glnn generates for it (same seed, same order). */
int peer_case_count(void);
const char *peer_case_name(int i);
/* Builds case i (weights, bias and input allocated); false when out of memory. */
bool peer_case_build(int i, peer_case *c);
void peer_case_free(peer_case *c);
/* Whether name contains one of the comma-separated parts of filter (glnn bench --filter). */
bool peer_matches(const char *name, const char *filter);
/* Group input channels of a conv layer: 1 for depthwise, else cin / groups. */
int peer_group_inputs(const peer_layer *l);
/* Elements of a layer's output: out_h·out_w·cout (dense: cout). */
int64_t peer_output_count(const peer_layer *l);

/* Memory plan: gives each layer's output a slot (slot[j] for layer j) so that a slot is never written while a
 * tensor in it is still to be read; returns the slot count. The caller sizes each slot to its largest tensor. */
int peer_plan_slots(const peer_case *c, int *slot);

/* The reference: runs layer l in double precision on float NHWC inputs (in, and other for an add), with the
 * given weights and bias in the layer's layout, into out. */
void peer_reference_layer(const peer_layer *l, const float *w, const float *b, const float *in, const float *other,
                          float *out);

/* Command line shared by the peer programs. */
typedef struct peer_options {
    int threads;        /* --threads N (1) */
    int runs;           /* --runs N (20) */
    const char *filter; /* --filter S: comma-separated parts of case names; default: the cases glnn runs on CPUs */
    const char *types;  /* --types LIST: the program's data types to run (default: all it has) */
    bool json;          /* --json: one JSON object per line */
    bool check;         /* --check: compare each layer's output with the reference first */
    bool list;          /* --list: print the case names */
    bool layers;        /* --layers: also time each layer of a multi-layer case alone ("case/layer" rows) */
} peer_options;

/* Parses argv; prints usage and returns false on bad arguments. */
bool peer_parse_args(int argc, char **argv, const char *program, const char *types_help, peer_options *o);
/* --list: prints each case's name, multiply-adds and layer count; returns the exit status. */
int peer_list_cases(void);
/* Whether case i runs under o (filter, else not large). */
bool peer_case_selected(int i, const peer_options *o);
/* Whether type t is in o->types (all when NULL). */
bool peer_type_selected(const char *t, const peer_options *o);

double peer_now_ms(void);

/* Times fn(ctx) like glnn's bench: a warm-up of at least one run and 200 ms, then `runs` runs; median and minimum
 * in ms. false when fn fails. */
bool peer_time(bool (*fn)(void *ctx), void *ctx, int runs, double *median_ms, double *min_ms);
/* The same with a warm-up of warmup_ms (at least one run). */
bool peer_time_warm(bool (*fn)(void *ctx), void *ctx, int runs, double warmup_ms, double *median_ms, double *min_ms);

/* Prints one result: a JSON object per line (o->json) or a text row. max_diff < 0: not checked; unit: "LSB" for
 * 8-bit outputs, "abs" for float outputs. */
void peer_report(const peer_options *o, const peer_case *c, const char *peer, double median_ms, double min_ms,
                 double max_diff, const char *unit);
void peer_report_header(const peer_options *o);

#ifdef __cplusplus
}
#endif

#endif
