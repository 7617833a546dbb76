/* Error names and messages, generated from ACTO_ERRNO_MAP. */
#include <acto/error.h>

#include <string.h>
#include <uv.h>

/* uv_name names a libuv code, or returns NULL for codes libuv does not
 * know (uv_err_name would allocate a string for those and leak it). */
static const char *
uv_name(int err)
{
    switch (err) {
#define ACTO__UV_NAME(name, msg)                                               \
    case UV_##name:                                                            \
        return "UV_" #name;
        UV_ERRNO_MAP(ACTO__UV_NAME)
#undef ACTO__UV_NAME
    default:
        return NULL;
    }
}

const char *
acto_strerror(int err)
{
    if (err == 0) {
        return "success";
    }
    switch (err) {
#define ACTO__ERR_MSG(name, value, msg)                                        \
    case ACTO_##name:                                                          \
        return msg;
        ACTO_ERRNO_MAP(ACTO__ERR_MSG)
#undef ACTO__ERR_MSG
    default:
        break;
    }
    return uv_name(err) != NULL ? uv_strerror(err) : "unknown error";
}

const char *
acto_err_name(int err)
{
    if (err == 0) {
        return "OK";
    }
    switch (err) {
#define ACTO__ERR_NAME(name, value, msg)                                       \
    case ACTO_##name:                                                          \
        return "ACTO_" #name;
        ACTO_ERRNO_MAP(ACTO__ERR_NAME)
#undef ACTO__ERR_NAME
    default:
        break;
    }
    const char *name = uv_name(err);
    return name != NULL ? name : "UNKNOWN";
}
