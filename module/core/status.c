/* status.c -- error formatting for the core (see status.h). */
#include <stdarg.h>
#include <stdio.h>

#include "swarm/status.h"

swStatus swErrorSet(swError *err, swStatus status, size_t offset, const char *fmt, ...) {
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->offset = offset;
    }
    return status;
}
