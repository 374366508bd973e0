/* Status codes and error messages of the engine's public calls.
 *
 * Every public engine call returns a thaw_status. Calls that can fail on user
 * input (files, shapes, settings) also take an optional thaw_error* that
 * receives one clear line naming the item at fault, e.g.
 *   "layer conv1_bn: expected 64 values, found 32".
 * Programmer errors (NULL where the API forbids it) are assertions; bad input
 * never aborts. */
#ifndef THAW_CORE_STATUS_H
#define THAW_CORE_STATUS_H

#include <stddef.h>

typedef enum thaw_status {
    THAW_OK = 0,
    THAW_ERR_ARG,         /* an argument or setting is out of range */
    THAW_ERR_NOMEM,       /* an allocation failed */
    THAW_ERR_IO,          /* a file could not be opened, read or written */
    THAW_ERR_FORMAT,      /* a file's content is malformed or truncated */
    THAW_ERR_SHAPE,       /* a tensor or layer has the wrong shape */
    THAW_ERR_NONFINITE,   /* a loss or value became NaN or infinite */
    THAW_ERR_CANCELLED,   /* the caller asked to stop */
    THAW_ERR_UNSUPPORTED, /* valid request this build cannot serve */
    THAW_ERR_STATE,       /* call not valid in the object's current state */
} thaw_status;

#define THAW_ERROR_MSG_MAX 512

typedef struct thaw_error {
    thaw_status status;
    char msg[THAW_ERROR_MSG_MAX];
} thaw_error;

const char *thaw_status_to_string(thaw_status status);

/* Records status and a printf-style message in err (if err is not NULL) and
 * returns status, so that failures read `return thaw_error_set(err, ...)`. */
thaw_status thaw_error_set(thaw_error *err, thaw_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err (status THAW_OK, empty message); err may be NULL. */
void thaw_error_clear(thaw_error *err);

#endif
