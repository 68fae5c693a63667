/* glnn command-line tool (placeholder; grows with the library). */
#include "glnn.h"

#include <stdio.h>

int main(void) {
    puts("glnn " GLNN_VERSION);
    return 0;
}
