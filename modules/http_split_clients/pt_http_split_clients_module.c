/*
 * pt_http_split_clients_module.c: a variable that splits clients into
 * groups by a hash of a string, for A/B testing, as nginx's
 * split_clients module.
 *
 *   split_clients STRING $name {      (http)
 *       0.5%   A;
 *       2%     B;
 *       *      C;
 *   }
 *
 * STRING (with variables, e.g. "${remote_addr}AAA") is hashed with
 * MurmurHash2 exactly as nginx's ngx_murmur_hash2(), and the 32-bit hash
 * space is cut into consecutive slices of the given percentages, with
 * nginx's integer arithmetic, so a client falls in the same group as
 * under nginx.  "*" takes the rest; without it a hash past the slices
 * gets "".  Percentages have up to two decimals and add up to 100% at
 * most.  Values are constant strings.
 */

#include "pt_http_split_clients.h"

typedef struct {
    uint32_t                    percent;    /* upper bound of the slice; 0: "*" */
    pt_http_variable_value_t    value;
} pt_http_split_clients_part_t;

typedef struct {
    pt_http_complex_value_t     source;
    pt_array_t                  parts;      /* of pt_http_split_clients_part_t */
} pt_http_split_clients_ctx_t;

static char *pt_http_split_clients_block(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_split_clients_commands[] = {

    { pt_string("split_clients"),
      PT_HTTP_MAIN_CONF|PT_CONF_BLOCK|PT_CONF_TAKE2,
      pt_http_split_clients_block, PT_HTTP_MAIN_CONF_OFFSET, 0, NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_split_clients_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_split_clients_module = {
    PT_MODULE_V1,
    &pt_http_split_clients_module_ctx,
    pt_http_split_clients_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* See pt_http_split_clients.h. */
uint32_t
pt_http_split_clients_murmur2(u_char *data, size_t len)
{
    uint32_t  h, k;

    h = 0 ^ (uint32_t) len;

    while (len >= 4) {
        k = (uint32_t) data[0];
        k |= (uint32_t) data[1] << 8;
        k |= (uint32_t) data[2] << 16;
        k |= (uint32_t) data[3] << 24;

        k *= 0x5bd1e995;
        k ^= k >> 24;
        k *= 0x5bd1e995;

        h *= 0x5bd1e995;
        h ^= k;

        data += 4;
        len -= 4;
    }

    switch (len) {
    case 3:
        h ^= (uint32_t) data[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t) data[1] << 8;
        /* fall through */
    case 1:
        h ^= data[0];
        h *= 0x5bd1e995;
    }

    h ^= h >> 13;
    h *= 0x5bd1e995;
    h ^= h >> 15;

    return h;
}

static pt_int_t
pt_http_split_clients_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_http_split_clients_ctx_t *ctx = (pt_http_split_clients_ctx_t *) data;

    uint32_t                       hash;
    pt_str_t                       s;
    pt_uint_t                      i;
    pt_http_split_clients_part_t  *part;

    *v = pt_http_variable_null_value;

    /* as nginx: a string that cannot be built gives "" */
    if (pt_http_complex_value(r, &ctx->source, &s) != PT_OK) {
        return PT_OK;
    }

    hash = pt_http_split_clients_murmur2(s.data, s.len);

    part = ctx->parts.elts;

    for (i = 0; i < ctx->parts.nelts; i++) {
        if (hash < part[i].percent || part[i].percent == 0) {
            *v = part[i].value;
            return PT_OK;
        }
    }

    return PT_OK;
}

/* nginx's ngx_atofp(): a decimal number with at most point decimals,
 * scaled by 10^point; PT_ERROR on anything else or on overflow. */
static int64_t
pt_http_split_clients_atofp(u_char *line, size_t n, size_t point)
{
    int64_t    value, cutoff, cutlim;
    pt_uint_t  dot;

    if (n == 0) {
        return PT_ERROR;
    }

    cutoff = INT64_MAX / 10;
    cutlim = INT64_MAX % 10;
    dot = 0;

    for (value = 0; n--; line++) {
        if (point == 0) {
            return PT_ERROR;
        }

        if (*line == '.') {
            if (dot) {
                return PT_ERROR;
            }
            dot = 1;
            continue;
        }

        if (*line < '0' || *line > '9') {
            return PT_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return PT_ERROR;
        }

        value = value * 10 + (*line - '0');
        point -= dot;
    }

    while (point--) {
        if (value > cutoff) {
            return PT_ERROR;
        }
        value = value * 10;
    }

    return value;
}

/* One "PERCENT% VALUE;" or "* VALUE;" line.  As nginx, words after the
 * value are ignored; a line without a value (which nginx reads from
 * stale memory) gets "". */
static char *
pt_http_split_clients_line(pt_conf_t *cf, pt_command_t *dummy, void *conf)
{
    pt_http_split_clients_ctx_t *ctx = conf;

    int64_t                        n;
    pt_str_t                      *value;
    pt_http_split_clients_part_t  *part;

    value = cf->args->elts;

    part = pt_array_push(&ctx->parts);
    if (part == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(part, sizeof(pt_http_split_clients_part_t));

    if (value[0].len == 1 && value[0].data[0] == '*') {
        part->percent = 0;

    } else {
        n = PT_ERROR;

        if (value[0].len && value[0].data[value[0].len - 1] == '%') {
            n = pt_http_split_clients_atofp(value[0].data, value[0].len - 1, 2);
        }

        if (n == PT_ERROR || n == 0) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid percent value \""
                              PT_STR_FMT "\"", PT_STR_ARG(value[0]));
            return PT_CONF_ERROR;
        }

        /* truncated as nginx's (uint32_t) cast: 4294967296% is "*" there */
        part->percent = (uint32_t) n;
    }

    if (cf->args->nelts > 1) {
        part->value.len = value[1].len;
        part->value.data = value[1].data;
    } else {
        part->value.data = (u_char *) "";
    }

    part->value.valid = 1;

    return PT_CONF_OK;
}

/* The percentages into upper bounds of the slices, as nginx computes
 * them (so the 100% bound is 0xffffffff, and that one hash gets "" when
 * there is no "*"). */
static char *
pt_http_split_clients_bounds(pt_conf_t *cf, pt_http_split_clients_ctx_t *ctx)
{
    uint32_t                       sum, last;
    pt_uint_t                      i;
    pt_http_split_clients_part_t  *part;

    sum = 0;
    last = 0;
    part = ctx->parts.elts;

    for (i = 0; i < ctx->parts.nelts; i++) {
        sum = part[i].percent ? sum + part[i].percent : 10000;

        if (sum > 10000) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "percent total is greater than 100%%");
            return PT_CONF_ERROR;
        }

        if (part[i].percent) {
            last += (uint32_t) (part[i].percent * (uint64_t) 0xffffffff / 10000);
            part[i].percent = last;
        }
    }

    return PT_CONF_OK;
}

/* "split_clients STRING $name { ... }" */
static char *
pt_http_split_clients_block(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    char                             *rv;
    pt_str_t                         *value, name;
    pt_conf_t                         save;
    pt_http_variable_t               *var;
    pt_http_split_clients_ctx_t      *ctx;
    pt_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    ctx = pt_pcalloc(cf->pool, sizeof(pt_http_split_clients_ctx_t));
    if (ctx == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &ctx->source;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    name = value[2];

    if (pt_http_variable_arg(cf, &name, &name) != PT_OK) {
        return PT_CONF_ERROR;
    }

    var = pt_http_add_variable(cf, &name, PT_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return PT_CONF_ERROR;
    }

    var->get_handler = pt_http_split_clients_variable;
    var->data = (uintptr_t) ctx;

    if (pt_array_init(&ctx->parts, cf->pool, 2, sizeof(pt_http_split_clients_part_t))
        != PT_OK)
    {
        return PT_CONF_ERROR;
    }

    save = *cf;
    cf->handler = pt_http_split_clients_line;
    cf->handler_conf = ctx;

    rv = pt_conf_parse(cf, NULL);

    *cf = save;

    if (rv != PT_CONF_OK) {
        return rv;
    }

    return pt_http_split_clients_bounds(cf, ctx);
}
