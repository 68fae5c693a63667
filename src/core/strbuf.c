/* A growing string: formatted text appended at the end, a sticky flag on out of memory (callers check once). */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void glnn_strbuf_add(glnn_strbuf *t, const char *fmt, ...) {
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (m < 0) {
            t->oom = true;
            return;
        }
        if (t->s && t->len + (size_t)m < t->cap) {
            t->len += (size_t)m;
            return;
        }
        size_t cap = t->cap ? 2 * t->cap : 4096;
        while (cap < t->len + (size_t)m + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) {
            t->oom = true;
            return;
        }
        t->s = p;
        t->cap = cap;
    }
}
