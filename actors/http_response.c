/* Responses and errors of HTTP transfers: the head as curl hands it over,
 * the response a future completes with, curl's codes mapped to acto's,
 * and the messages that end a streamed body. */
#include "http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A response and, after it, its header array and strings in one block. */
typedef struct resp_box {
    acto_http_response r; /* first: the future's value points here */
    size_t size;          /* of the block */
    char *body;
    size_t body_cap; /* 0: body is the static "" */
} resp_box;

/* The error a BODY_FAILED message carries. */
typedef struct body_error {
    acto_error e;
    char type[32];
    char text[256];
} body_error;

/* ---- the head --------------------------------------------------------- */

static bool
followed(const acto__http_xfer *x)
{
    int st = x->status;
    return x->location &&
           (st == 301 || st == 302 || st == 303 || st == 307 || st == 308);
}

static int
head_append(acto__http_xfer *x, const char *p, size_t n)
{
    if (x->head_len + n + 1 > x->head_cap) {
        size_t cap = x->head_cap > 0 ? x->head_cap : 512;
        while (cap < x->head_len + n + 1) {
            cap *= 2;
        }
        char *nh = acto_malloc(cap);
        if (nh == NULL) {
            return ACTO_ENOMEM;
        }
        if (x->head_len > 0) {
            memcpy(nh, x->head, x->head_len);
        }
        acto_free(x->head, x->head_cap);
        x->head = nh;
        x->head_cap = cap;
    }
    memcpy(x->head + x->head_len, p, n);
    x->head[x->head_len + n] = '\n';
    x->head_len += n + 1;
    return 0;
}

bool
acto__http_head_line(acto__http_xfer *x, const char *p, size_t n, int *err)
{
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n')) {
        n--;
    }
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response: an interim one or a redirect came before. */
        x->head_len = 0;
        x->location = false;
        const char *sp = memchr(p, ' ', n);
        x->status = 0;
        for (sp = sp != NULL ? sp + 1 : p + n;
             sp < p + n && *sp >= '0' && *sp <= '9' && x->status < 1000; sp++) {
            x->status = x->status * 10 + (*sp - '0');
        }
        return false;
    }
    if (n == 0) {
        return x->status >= 200 && !followed(x);
    }
    if (n >= 9 && strncasecmp(p, "location:", 9) == 0) {
        x->location = true;
    }
    if (memchr(p, ':', n) != NULL && p[0] != ' ' && p[0] != '\t') {
        *err = head_append(x, p, n);
    }
    return false;
}

/* ---- the response ----------------------------------------------------- */

static void
box_free(void *ptr, void *user)
{
    (void)user;
    resp_box *b = ptr;
    acto_free(b->body, b->body_cap);
    acto_free(b, b->size);
}

static size_t
count_lines(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += p[i] == '\n';
    }
    return k;
}

/* split_headers turns "Name: value\n" lines copied to strs into the array
 * (trimming the value's spaces). */
static void
split_headers(char *strs, size_t len, acto_http_header *h)
{
    size_t k = 0;
    for (char *line = strs; line < strs + len;) {
        char *nl = memchr(line, '\n', (size_t)(strs + len - line));
        *nl = 0;
        char *colon = strchr(line, ':');
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        for (char *end = nl; end > v && (end[-1] == ' ' || end[-1] == '\t');
             end--) {
            end[-1] = 0;
        }
        h[k].name = line;
        h[k].value = v;
        k++;
        line = nl + 1;
    }
}

int
acto__http_deliver(acto__http_xfer *x)
{
    const char *url = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
    url = url != NULL ? url : "";
    size_t n = count_lines(x->head, x->head_len);
    size_t url_size = strlen(url) + 1;
    size_t size = sizeof(resp_box) + n * sizeof(acto_http_header) + url_size +
                  x->head_len;
    resp_box *b = acto_malloc(size);
    if (b == NULL) {
        acto__http_set_err(x, ACTO_ENOMEM, "ACTO_ENOMEM",
                           "out of memory for the response");
        return ACTO_ENOMEM;
    }
    acto_http_header *h = (acto_http_header *)(b + 1);
    char *strs = (char *)(h + n);
    memcpy(strs, url, url_size);
    if (x->head_len > 0) {
        memcpy(strs + url_size, x->head, x->head_len);
    }
    split_headers(strs + url_size, x->head_len, h);
    b->size = size;
    b->body = x->body;
    b->body_cap = x->body_cap;
    if (b->body != NULL) {
        b->body[x->body_len] = 0;
    }
    b->r = (acto_http_response){
        .status = x->status,
        .url = strs,
        .headers = h,
        .n_headers = n,
        .body = b->body != NULL ? b->body : "",
        .body_len = x->body_len,
    };
    x->body = NULL;
    x->body_cap = 0;
    x->body_len = 0;
    x->delivered = true;
    acto_future_set_result(x->f, b, box_free, NULL);
    return 0;
}

const acto_http_response *
acto_http_response_of(acto_future *f)
{
    void *v = NULL;
    if (f == NULL || acto_future_state_of(f) != ACTO_FUTURE_DONE ||
        acto_future_result(f, &v) != 0) {
        return NULL;
    }
    return v;
}

const char *
acto_http_header_get(const acto_http_response *resp, const char *name)
{
    if (resp == NULL || name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0) {
            return resp->headers[i].value;
        }
    }
    return NULL;
}

/* ---- errors ----------------------------------------------------------- */

void
acto__http_set_err(acto__http_xfer *x, int code, const char *type,
                   const char *fmt, ...)
{
    if (x->err_code != 0) {
        return;
    }
    x->err_code = code;
    x->err_type = type;
    /* The connection is left mid-response: it must not be pooled. */
    curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err_text, sizeof(x->err_text), fmt, ap);
    va_end(ap);
}

static bool
tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

static bool
response_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL: /* an HTTP/0.9 reply */
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        return true;
    default:
        return false;
    }
}

/* connect_error names a failed connect by the system's errno. */
static void
connect_error(acto__http_xfer *x, int *code, const char **type)
{
    long os = 0;
    curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os);
    *code = os > 0 ? -(int)os : UV_ECONNREFUSED;
    *type = *code == UV_ECONNREFUSED ? "ConnectionRefused" : "ConnectionError";
}

void
acto__http_map(acto__http_xfer *x, CURLcode rc, int *code, const char **type,
               const char **text)
{
    if (x->err_code != 0) {
        *code = x->err_code;
        *type = x->err_type;
        *text = x->err_text;
        return;
    }
    *text = x->errbuf[0] != 0 ? x->errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY) {
        *code = UV_EAI_NONAME;
        *type = "DNSError";
    } else if (rc == CURLE_COULDNT_CONNECT) {
        connect_error(x, code, type);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        /* acto runs the total and read clocks: curl's is the connect one */
        *code = ACTO_ETIMEDOUT;
        *type = "ConnectTimeoutError";
    } else if (tls_error(rc)) {
        *code = UV_EPROTO;
        *type = "TLSError";
    } else if (rc == CURLE_FILESIZE_EXCEEDED) {
        *code = UV_EMSGSIZE;
        *type = "PayloadTooLarge";
    } else if (response_error(rc)) {
        *code = UV_EREMOTEIO;
        *type = "ServerResponseError";
    } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
        *code = UV_ELOOP;
        *type = "TooManyRedirects";
    } else if (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) {
        *code = UV_ECONNRESET;
        *type = "ServerDisconnected";
    } else if (rc == CURLE_URL_MALFORMAT) {
        *code = ACTO_EINVAL;
        *type = "InvalidURL";
    } else if (rc == CURLE_OUT_OF_MEMORY) {
        *code = ACTO_ENOMEM;
        *type = "ACTO_ENOMEM";
    } else {
        *code = UV_EIO;
        *type = "ClientError";
    }
}

static void
body_error_free(void *ptr, void *user)
{
    (void)user;
    acto_free(ptr, sizeof(body_error));
}

static void
on_end_sent(acto_system *sys, int status, void *user)
{
    (void)sys;
    (void)status;
    (void)user;
}

int
acto__http_stream_prepare(acto__http_xfer *x)
{
    acto_system *sys = x->s->sys;
    body_error *be = acto_calloc(1, sizeof(*be));
    if (be == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = acto_msg_new_ptr(sys, ACTO_HTTP_MSG_BODY_FAILED, be,
                              body_error_free, NULL, &x->end_fail);
    if (rc != 0) {
        acto_free(be, sizeof(*be));
        return rc;
    }
    rc = acto_msg_new_bytes(sys, ACTO_STREAM_EOS, NULL, 0, &x->end_ok);
    if (rc != 0) {
        acto_msg_free(x->end_fail);
        x->end_fail = NULL;
    }
    return rc;
}

void
acto__http_stream_release(acto__http_xfer *x)
{
    acto_msg_free(x->end_ok);
    acto_msg_free(x->end_fail);
    x->end_ok = NULL;
    x->end_fail = NULL;
}

/* send_end sends the stream's last message, behind any chunk still
 * waiting for room (waiting sends are served in order). */
static void
send_end(acto__http_xfer *x, acto_msg *m)
{
    acto_system *sys = x->s->sys;
    int rc = acto_system_send(sys, x->to, m);
    if (rc == ACTO_EQUEUEFULL) {
        rc = acto_system_send_wait(sys, x->to, m, on_end_sent, NULL);
    }
    if (rc != 0) {
        acto_msg_free(m);
    }
}

void
acto__http_stream_end(acto__http_xfer *x, int code, const char *type,
                      const char *text)
{
    acto_msg *m = code == 0 ? x->end_ok : x->end_fail;
    if (m == NULL) {
        return;
    }
    body_error *be = code != 0 ? acto_msg_ptr(m) : NULL;
    if (be != NULL) { /* always, for the message made at the start */
        snprintf(be->type, sizeof(be->type), "%s", type);
        snprintf(be->text, sizeof(be->text), "%s", text);
        be->e = (acto_error){.code = code,
                             .type = be->type,
                             .text = be->text,
                             .origin = x->s->self};
    }
    if (code == 0) {
        x->end_ok = NULL;
    } else {
        x->end_fail = NULL;
    }
    send_end(x, m);
}

void
acto__http_fail(acto__http_xfer *x, int code, const char *type,
                const char *text)
{
    if (!acto_future_done(x->f)) {
        const char *url = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
        if (acto_future_set_error(x->f, code, type, "%s %s: %s", x->method,
                                  url != NULL ? url : "?", text) != 0) {
            /* No memory for the error: a cancelled future still ends. */
            acto_future_cancel(x->f, NULL);
        }
    } else if (x->stream && x->delivered) {
        acto__http_stream_end(x, code, type, text);
    }
}

const acto_error *
acto_http_msg_error(const acto_msg *m)
{
    if (m == NULL || acto_msg_type(m) != ACTO_HTTP_MSG_BODY_FAILED ||
        acto_msg_kind(m) != ACTO_PAYLOAD_PTR) {
        return NULL;
    }
    body_error *be = acto_msg_ptr(m);
    return be != NULL ? &be->e : NULL;
}
