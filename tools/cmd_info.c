/* glnn info: the device and the limits glnn relies on, or the list of EGL devices. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The next "key: value" line of a report: false at the end; a line without a colon has an empty key and the whole
 * line as its value. */
static bool next_pair(const char **p, const char **key, size_t *key_len, const char **value, size_t *value_len) {
    if (!**p) return false;
    const char *nl = strchr(*p, '\n'), *end = nl ? nl : *p + strlen(*p), *colon = memchr(*p, ':', (size_t)(end - *p));
    *key = *p;
    *key_len = colon ? (size_t)(colon - *p) : 0;
    *value = colon ? colon + 1 : *p;
    while (*value < end && **value == ' ')
        (*value)++;
    *value_len = (size_t)(end - *value);
    *p = nl ? nl + 1 : end;
    return true;
}

static int list_devices(const cli_options *o) {
    char buf[4096];
    glnn_error err;
    if (glnn_list_devices(buf, sizeof buf, NULL, &err) != GLNN_OK) return cli_fail(&err);
    if (!o->json) {
        fputs(buf, stdout);
        return CLI_OK;
    }
    printf("[");
    const char *p = buf, *key, *value;
    size_t key_len, value_len;
    for (int n = 0; next_pair(&p, &key, &key_len, &value, &value_len);) {
        if (!key_len) continue;
        printf("%s\n  {\"index\": %d, \"description\": ", n++ ? "," : "", atoi(key));
        cli_json_bytes(stdout, value, value_len);
        printf("}");
    }
    printf("\n]\n");
    return CLI_OK;
}

int cmd_info(const cli_options *o) {
    if (o->devices) return list_devices(o);
    glnn_error err;
    glnn_context *ctx;
    if (cli_open_context(o, &ctx, &err) != GLNN_OK) return cli_fail(&err);
    char buf[4096];
    glnn_context_describe(ctx, buf, sizeof buf);
    if (o->json) {
        /* The report's lines become the members of "report". */
        printf("{\"version\": \"%s\", \"device\": ", GLNN_VERSION);
        cli_json_string(stdout, glnn_context_device_name(ctx));
        printf(", \"path\": \"%s\", \"gpu\": %s, \"report\": {", glnn_context_path(ctx),
               glnn_context_is_gpu(ctx) ? "true" : "false");
        const char *p = buf, *key, *value;
        size_t key_len, value_len;
        for (int n = 0; next_pair(&p, &key, &key_len, &value, &value_len);) {
            if (!key_len) continue;
            printf("%s\n    ", n++ ? "," : "");
            cli_json_bytes(stdout, key, key_len);
            printf(": ");
            cli_json_bytes(stdout, value, value_len);
        }
        printf("\n  }\n}\n");
    } else {
        printf("glnn %s\n%s", GLNN_VERSION, buf);
    }
    glnn_context_free(ctx);
    return CLI_OK;
}
