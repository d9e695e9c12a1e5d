/*
 * pt_http_not_modified_filter_module.c: conditional requests (RFC 9110
 * 13.1, 13.2.2) for complete 200 responses of the main request.
 *
 *   if_modified_since off|exact|before;   (default exact, as nginx)
 *
 * The preconditions are evaluated in the RFC's order:
 *   1. If-Match: no strong match (or no ETag)        -> 412
 *   2. else If-Unmodified-Since: modified after it  -> 412
 *   3. If-None-Match: a weak match                  -> 304 (GET, HEAD),
 *                                                      412 (other methods)
 *   4. else If-Modified-Since (GET, HEAD): not modified since -> 304
 * A date that does not parse makes its field ignored.  A 304 keeps the
 * validators and caching fields and loses the body and its length.  A 412
 * is returned up the header chain as a status (nothing was sent yet): the
 * handler hands it to pt_http_finalize_request, which sends the page.
 */

#include "pt_http.h"

#define PT_HTTP_IMS_OFF     0
#define PT_HTTP_IMS_EXACT   1
#define PT_HTTP_IMS_BEFORE  2

typedef struct {
    pt_uint_t     if_modified_since;
} pt_http_not_modified_loc_conf_t;

static pt_int_t pt_http_not_modified_init(pt_conf_t *cf);
static void *pt_http_not_modified_create_loc_conf(pt_conf_t *cf);
static char *pt_http_not_modified_merge_loc_conf(pt_conf_t *cf, void *parent,
    void *child);

static pt_conf_enum_t  pt_http_ims_modes[] = {
    { pt_string("off"), PT_HTTP_IMS_OFF },
    { pt_string("exact"), PT_HTTP_IMS_EXACT },
    { pt_string("before"), PT_HTTP_IMS_BEFORE },
    { pt_null_string, 0 }
};

static pt_command_t  pt_http_not_modified_commands[] = {

    { pt_string("if_modified_since"),
      PT_HTTP_MAIN_CONF|PT_HTTP_SRV_CONF|PT_HTTP_LOC_CONF|PT_CONF_TAKE1,
      pt_conf_set_enum_slot, PT_HTTP_LOC_CONF_OFFSET,
      offsetof(pt_http_not_modified_loc_conf_t, if_modified_since),
      &pt_http_ims_modes },

      pt_null_command
};

static pt_http_module_t  pt_http_not_modified_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    pt_http_not_modified_init,             /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    pt_http_not_modified_create_loc_conf,  /* create location configuration */
    pt_http_not_modified_merge_loc_conf    /* merge location configuration */
};

pt_module_t  pt_http_not_modified_filter_module = {
    PT_MODULE_V1,
    &pt_http_not_modified_filter_module_ctx,
    pt_http_not_modified_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

static pt_http_output_header_filter_pt  pt_http_next_header_filter;

/* The opaque-tag of an entity-tag at *p ("W/" noted in *weak); moves *p
 * past it.  PT_ERROR on a malformed list. */
static pt_int_t
pt_http_etag_next(u_char **p, u_char *last, pt_str_t *tag, pt_uint_t *weak)
{
    u_char  *s;

    s = *p;

    while (s < last && (*s == ' ' || *s == '\t' || *s == ',')) {
        s++;
    }

    if (s == last) {
        *p = s;
        tag->len = 0;
        return PT_DECLINED;
    }

    *weak = 0;

    if (last - s > 2 && s[0] == 'W' && s[1] == '/') {
        *weak = 1;
        s += 2;
    }

    if (*s != '"') {
        return PT_ERROR;
    }

    tag->data = s;

    for (s++; s < last && *s != '"'; s++) { /* void */ }

    if (s == last) {
        return PT_ERROR;
    }

    s++;
    tag->len = s - tag->data;
    *p = s;

    return PT_OK;
}

/*
 * Whether the field's list matches the response's ETag: "*" matches any
 * current representation; strong comparison (If-Match) needs both tags
 * strong, weak comparison (If-None-Match) ignores "W/".
 */
static pt_uint_t
pt_http_etag_match(pt_http_request_t *r, pt_http_header_t *field, pt_uint_t weak_cmp)
{
    u_char            *p, *last;
    pt_str_t           etag, tag;
    pt_uint_t          etag_weak, tag_weak;
    pt_http_header_t  *h;

    for (h = field; h; h = h->next) {
        if (h->value.len == 1 && h->value.data[0] == '*') {
            return 1;
        }
    }

    if (r->headers_out.etag == NULL) {
        return 0;
    }

    p = r->headers_out.etag->value.data;
    last = p + r->headers_out.etag->value.len;

    if (pt_http_etag_next(&p, last, &etag, &etag_weak) != PT_OK) {
        return 0;
    }

    if (etag_weak && !weak_cmp) {
        return 0;
    }

    for (h = field; h; h = h->next) {
        p = h->value.data;
        last = p + h->value.len;

        while (pt_http_etag_next(&p, last, &tag, &tag_weak) == PT_OK) {
            if (tag_weak && !weak_cmp) {
                continue;
            }

            if (tag.len == etag.len && pt_memcmp(tag.data, etag.data, tag.len) == 0) {
                return 1;
            }
        }
    }

    return 0;
}

/* If-Unmodified-Since: true when not modified after the date; a date that
 * does not parse is ignored (true). */
static pt_uint_t
pt_http_test_if_unmodified(pt_http_request_t *r)
{
    time_t             t;
    pt_http_header_t  *h;

    h = r->headers_in.if_unmodified_since;

    t = pt_parse_http_time(h->value.data, h->value.len);

    if (t == PT_ERROR) {
        return 1;
    }

    if (r->headers_out.last_modified_time == -1) {
        return 0;
    }

    return r->headers_out.last_modified_time <= t;
}

/* If-Modified-Since: true when the response counts as modified. */
static pt_uint_t
pt_http_test_if_modified(pt_http_request_t *r, pt_uint_t mode)
{
    time_t             t, lm;
    pt_http_header_t  *h;

    lm = r->headers_out.last_modified_time;

    if (mode == PT_HTTP_IMS_OFF || lm == -1) {
        return 1;
    }

    h = r->headers_in.if_modified_since;

    t = pt_parse_http_time(h->value.data, h->value.len);

    if (t == PT_ERROR) {
        return 1;
    }

    if (mode == PT_HTTP_IMS_EXACT) {
        return t != lm;
    }

    return lm > t;
}

/* Turns the response into a 304 (RFC 9110 15.4.5). */
static pt_int_t
pt_http_not_modified(pt_http_request_t *r)
{
    r->headers_out.status = PT_HTTP_NOT_MODIFIED;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_type.len = 0;
    r->headers_out.content_type_len = 0;
    r->headers_out.content_length_n = -1;
    r->allow_ranges = 0;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    if (r->headers_out.accept_ranges) {
        r->headers_out.accept_ranges->hash = 0;
        r->headers_out.accept_ranges = NULL;
    }

    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    return pt_http_next_header_filter(r);
}

static pt_int_t
pt_http_not_modified_header_filter(pt_http_request_t *r)
{
    pt_uint_t                         get;
    pt_http_not_modified_loc_conf_t  *nlcf;

    if (r->headers_out.status != PT_HTTP_OK || r != r->main
        || r->disable_not_modified)
    {
        return pt_http_next_header_filter(r);
    }

    if (r->headers_in.if_match) {
        if (!pt_http_etag_match(r, r->headers_in.if_match, 0)) {
            return PT_HTTP_PRECONDITION_FAILED;
        }

    } else if (r->headers_in.if_unmodified_since) {
        if (!pt_http_test_if_unmodified(r)) {
            return PT_HTTP_PRECONDITION_FAILED;
        }
    }

    get = (r->method & (PT_HTTP_GET|PT_HTTP_HEAD)) != 0;

    if (r->headers_in.if_none_match) {
        if (!pt_http_etag_match(r, r->headers_in.if_none_match, 1)) {
            return pt_http_next_header_filter(r);
        }

        return get ? pt_http_not_modified(r) : PT_HTTP_PRECONDITION_FAILED;
    }

    if (r->headers_in.if_modified_since && get) {
        nlcf = pt_http_get_module_loc_conf(r, pt_http_not_modified_filter_module);

        if (!pt_http_test_if_modified(r, nlcf->if_modified_since)) {
            return pt_http_not_modified(r);
        }
    }

    return pt_http_next_header_filter(r);
}

static void *
pt_http_not_modified_create_loc_conf(pt_conf_t *cf)
{
    pt_http_not_modified_loc_conf_t  *conf;

    conf = pt_palloc(cf->pool, sizeof(pt_http_not_modified_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->if_modified_since = PT_CONF_UNSET_UINT;

    return conf;
}

static char *
pt_http_not_modified_merge_loc_conf(pt_conf_t *cf, void *parent, void *child)
{
    pt_http_not_modified_loc_conf_t  *prev = parent;
    pt_http_not_modified_loc_conf_t  *conf = child;

    pt_conf_merge_uint_value(conf->if_modified_since, prev->if_modified_since,
                             PT_HTTP_IMS_EXACT);

    return PT_CONF_OK;
}

static pt_int_t
pt_http_not_modified_init(pt_conf_t *cf)
{
    return pt_http_register_filter(cf, PT_HTTP_FILTER_NOT_MODIFIED,
                                   pt_http_not_modified_header_filter,
                                   &pt_http_next_header_filter, NULL, NULL);
}
