/* status.h -- status codes shared by every core unit.
 *
 * SW_OK is 0; errors are negative. Functions that can fail for user-input reasons also
 * take an swError out-parameter (may be NULL) that receives a bounded, human-readable
 * message (lowercase, no code word: the glue prepends the code word matching the status)
 * and, where it makes sense, a byte offset into the input. */
#ifndef SWARM_STATUS_H
#define SWARM_STATUS_H

#include <stddef.h>

typedef enum swStatus {
    SW_OK = 0,
    SW_ERR_NOMEM = -1,      /* allocation failed; the input is unchanged */
    SW_ERR_SYNTAX = -2,     /* malformed argument ("ERR") */
    SW_ERR_RANGE = -3,      /* number out of range ("ERR") */
    SW_ERR_EVENTTYPE = -4,  /* bad event type or subject pattern ("EVENTTYPE") */
    SW_ERR_REGEX = -5,      /* bad PCRE2 pattern ("ERR invalid regex ...") */
    SW_ERR_DENIED = -6,     /* rejected by an admission rule ("DENIED") */
    SW_ERR_PAYLOAD = -7,    /* bad or oversized JSON ("PAYLOAD") */
    SW_ERR_CONFLICT = -8,   /* IFVERSION mismatch ("CONFLICT") */
    SW_ERR_NOVERSION = -9,  /* version not retained ("NOVERSION") */
    SW_ERR_NOTFOUND = -10,  /* no such id/route ("ERR") */
    SW_ERR_CORRUPT = -11,   /* serialized data failed validation */
    SW_ERR_LIMIT = -12,     /* a configured or hard limit was reached ("ERR") */
    SW_ERR_CROSSSLOT = -13, /* keys of one command in different cluster slots ("CROSSSLOT") */
    /* JSON Patch (jpatch.h); the message names the op: "op 2 ..." */
    SW_ERR_TESTFAILED = -14, /* a "test" op did not hold ("TESTFAILED") */
    SW_ERR_NOPATH = -15,     /* a path or from names nothing that can be written ("NOPATH") */
    SW_ERR_BADOP = -16,      /* the ops document is not a well-formed JSON Patch ("BADOP") */
    SW_ERR_TYPE = -17,       /* incr on a non-integer, or an int64 overflow ("TYPE") */
    SW_ERR_NOSWARM = -18,    /* no routing table at the key ("NOSWARM") */
    /* Failures that are not the caller's input; all answer "ERR". */
    SW_ERR_NOTALLOWED = -19, /* an internal command called by a client */
    SW_ERR_SERVER = -20,     /* a call into the server failed (e.g. SCAN) */
    SW_ERR_DIVERGED = -21,   /* a replicated effect does not fit this node's data */
} swStatus;

#define SW_ERRMSG_MAX 256

typedef struct swError {
    char msg[SW_ERRMSG_MAX]; /* NUL-terminated, no code word */
    size_t offset;           /* byte offset into the input, when meaningful */
} swError;

/* Formats into err->msg when err is not NULL; returns status for tail calls. */
swStatus swErrorSet(swError *err, swStatus status, size_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
