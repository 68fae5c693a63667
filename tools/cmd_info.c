/* glnn info: the device and the limits glnn relies on. */
#include "cli.h"

int cmd_info(const cli_options *o) {
    glnn_error err;
    glnn_context *ctx;
    if (cli_open_context(o, &ctx, &err) != GLNN_OK) return cli_fail(&err);
    char buf[4096];
    glnn_context_describe(ctx, buf, sizeof buf);
    printf("glnn %s\n%s", GLNN_VERSION, buf);
    glnn_context_free(ctx);
    return 0;
}
