#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *thaw_status_to_string(thaw_status status)
{
    switch (status) {
    case THAW_OK:
        return "ok";
    case THAW_ERR_ARG:
        return "invalid argument";
    case THAW_ERR_NOMEM:
        return "out of memory";
    case THAW_ERR_IO:
        return "input/output error";
    case THAW_ERR_FORMAT:
        return "malformed data";
    case THAW_ERR_SHAPE:
        return "shape mismatch";
    case THAW_ERR_NONFINITE:
        return "non-finite value";
    case THAW_ERR_CANCELLED:
        return "cancelled";
    case THAW_ERR_UNSUPPORTED:
        return "unsupported";
    case THAW_ERR_STATE:
        return "invalid state";
    }
    return "unknown status";
}

thaw_status thaw_error_set(thaw_error *err, thaw_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void thaw_error_clear(thaw_error *err)
{
    if (err) {
        err->status = THAW_OK;
        err->msg[0] = '\0';
    }
}
