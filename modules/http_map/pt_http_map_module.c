/*
 * pt_http_map_module.c: variables whose value is mapped from another value.
 *
 *   map STRING $name { KEY VALUE; ... }     (http)
 *   map_hash_max_size N;                    (http, default 2048)
 *   map_hash_bucket_size N;                 (http, default the cache line)
 *
 * STRING is a complex value ("$http_upgrade", "$uri$args").  The block
 * holds "KEY VALUE;" lines plus "default VALUE;", "hostnames;",
 * "volatile;" and "include FILE;".  A lookup tries, as nginx does:
 *
 *   1. the exact keys (case-insensitive: keys are stored in lower case);
 *   2. with "hostnames", the head wildcards ("*.example.com",
 *      ".example.com"), the most specific first, then the tail wildcards
 *      ("www.example.*"), the most specific first;
 *   3. the "~regex" / "~*regex" keys in config order (not for an empty
 *      string); their captures are available to the value as $1 or by
 *      name;
 *   4. the default value ("" when there is none).
 *
 * A value with variables is compiled once and evaluated only when its key
 * is the one that matched.  The map variable is evaluated on first use in
 * a request and cached, unless "volatile".
 *
 * The key tables are open-addressing hash tables built at config time and
 * probed with a case-insensitive hash of the string, so a lookup that ends
 * on a constant value allocates nothing (nginx copies the string to lower
 * case first).  map_hash_max_size and map_hash_bucket_size are validated
 * as nginx does, with its messages, against nginx's layout of the exact
 * keys; the tables themselves size themselves (twice the keys, rounded up
 * to a power of two).
 */

#include "pt_http.h"

typedef struct {
    pt_str_t                    key;        /* lower case */
    pt_uint_t                   hash;
    pt_http_variable_value_t   *value;
} pt_http_map_key_t;

/* Open addressing with linear probing; at most half full. */
typedef struct {
    pt_http_map_key_t         **slots;      /* NULL when there are no keys */
    pt_uint_t                   mask;       /* number of slots - 1 */
    pt_uint_t                   nelts;
} pt_http_map_hash_t;

typedef struct {
    pt_http_regex_t            *regex;
    pt_http_variable_value_t   *value;
} pt_http_map_regex_t;

typedef struct {
    pt_str_t                    name;       /* of the variable, for logs */
    pt_http_complex_value_t     source;
    pt_http_map_hash_t          exact;
    pt_http_map_hash_t          head;       /* ".example.com" */
    pt_http_map_hash_t          tail;       /* "www.example." */
    pt_http_map_regex_t        *regex;
    pt_uint_t                   nregex;
    pt_http_variable_value_t   *default_value;
    unsigned                    hostnames:1;
} pt_http_map_t;

/* The state of one map {} while its lines are parsed. */
typedef struct {
    pt_http_map_t              *map;
    pt_array_t                  regexes;    /* of pt_http_map_regex_t */
    pt_http_variable_value_t   *default_value;
    unsigned                    hostnames:1;
    unsigned                    no_cacheable:1;
} pt_http_map_conf_ctx_t;

typedef struct {
    pt_uint_t                   hash_max_size;
    pt_uint_t                   hash_bucket_size;
} pt_http_map_main_conf_t;

static void *pt_http_map_create_main_conf(pt_conf_t *cf);
static char *pt_http_map_block(pt_conf_t *cf, pt_command_t *cmd, void *conf);

static pt_command_t  pt_http_map_commands[] = {

    { pt_string("map"),
      PT_HTTP_MAIN_CONF|PT_CONF_BLOCK|PT_CONF_TAKE2,
      pt_http_map_block, PT_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    /* read when a map {} is built: they count only before the first map */
    { pt_string("map_hash_max_size"),
      PT_HTTP_MAIN_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_MAIN_CONF_OFFSET,
      offsetof(pt_http_map_main_conf_t, hash_max_size), NULL },

    { pt_string("map_hash_bucket_size"),
      PT_HTTP_MAIN_CONF|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_MAIN_CONF_OFFSET,
      offsetof(pt_http_map_main_conf_t, hash_bucket_size), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_map_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    pt_http_map_create_main_conf,          /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_map_module = {
    PT_MODULE_V1,
    &pt_http_map_module_ctx,
    pt_http_map_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- the key tables ---- */

static pt_http_map_key_t *
pt_http_map_hash_find(pt_http_map_hash_t *h, u_char *data, size_t len, pt_uint_t hash)
{
    pt_uint_t           i;
    pt_http_map_key_t  *k;

    if (h->slots == NULL) {
        return NULL;
    }

    for (i = hash & h->mask; (k = h->slots[i]) != NULL; i = (i + 1) & h->mask) {
        if (k->hash == hash && k->key.len == len
            && pt_strncasecmp(k->key.data, data, len) == 0)
        {
            return k;
        }
    }

    return NULL;
}

/* Moves h into a new slot array of size slots (a power of two, more than
 * twice the keys). */
static pt_int_t
pt_http_map_hash_resize(pt_pool_t *pool, pt_http_map_hash_t *h, pt_uint_t size)
{
    pt_uint_t            i, j;
    pt_http_map_key_t  **slots, *k;

    slots = pt_pcalloc(pool, size * sizeof(pt_http_map_key_t *));
    if (slots == NULL) {
        return PT_ERROR;
    }

    for (i = 0; h->slots && i <= h->mask; i++) {
        k = h->slots[i];
        if (k == NULL) {
            continue;
        }
        for (j = k->hash & (size - 1); slots[j]; j = (j + 1) & (size - 1)) {
            /* void */
        }
        slots[j] = k;
    }

    h->slots = slots;
    h->mask = size - 1;

    return PT_OK;
}

/* Adds key (lower-cased in place) -> value.  PT_BUSY: the key is there. */
static pt_int_t
pt_http_map_hash_add(pt_conf_t *cf, pt_http_map_hash_t *h, pt_str_t *key,
    pt_http_variable_value_t *value)
{
    pt_uint_t           hash, size, i;
    pt_http_map_key_t  *k;

    hash = pt_hash_strlow(key->data, key->data, key->len);

    if (pt_http_map_hash_find(h, key->data, key->len, hash)) {
        return PT_BUSY;
    }

    size = h->slots ? h->mask + 1 : 0;

    if (2 * (h->nelts + 1) > size) {
        /* the table of the parse lives in the temp pool; the final one is
         * copied to the cycle pool by pt_http_map_hash_done() */
        if (pt_http_map_hash_resize(cf->temp_pool, h, size ? 2 * size : 16) != PT_OK) {
            return PT_ERROR;
        }
    }

    k = pt_palloc(cf->pool, sizeof(pt_http_map_key_t));
    if (k == NULL) {
        return PT_ERROR;
    }

    k->key = *key;
    k->hash = hash;
    k->value = value;

    /* not found above, so the probe ends on an empty slot */
    for (i = hash & h->mask; h->slots[i]; i = (i + 1) & h->mask) { /* void */ }

    h->slots[i] = k;

    h->nelts++;

    return PT_OK;
}

/* Copies the table to the cycle pool, at its final size. */
static pt_int_t
pt_http_map_hash_done(pt_conf_t *cf, pt_http_map_hash_t *h)
{
    pt_uint_t  size;

    if (h->nelts == 0) {
        h->slots = NULL;
        return PT_OK;
    }

    for (size = 2; size < 2 * h->nelts; size <<= 1) { /* void */ }

    return pt_http_map_hash_resize(cf->pool, h, size);
}

/* The bytes nginx's hash gives a key (ngx_hash_elt_t: value, length, name,
 * aligned to a pointer). */
#define pt_http_map_elt_size(len)                                            \
    (sizeof(void *) + pt_align((len) + 2, sizeof(void *)))

/* Whether nginx's bucket layout of the exact keys fits size buckets. */
static pt_uint_t
pt_http_map_hash_fits(pt_http_map_hash_t *h, pt_uint_t size, size_t bucket, uint32_t *test)
{
    pt_uint_t           i, b;
    pt_http_map_key_t  *k;

    pt_memzero(test, size * sizeof(uint32_t));

    for (i = 0; i <= h->mask; i++) {
        k = h->slots[i];
        if (k == NULL) {
            continue;
        }
        b = k->hash % size;
        test[b] += pt_http_map_elt_size(k->key.len);
        if (test[b] > bucket) {
            return 0;
        }
    }

    return 1;
}

/*
 * map_hash_max_size and map_hash_bucket_size, checked as nginx's
 * ngx_hash_init() checks them on the exact keys: a key too long for a
 * bucket and a too large bucket are errors; a table that does not fit
 * max_size buckets is a warning.
 */
static pt_int_t
pt_http_map_hash_check(pt_conf_t *cf, pt_http_map_main_conf_t *mcf, pt_http_map_hash_t *h)
{
    size_t              bucket;
    uint32_t           *test;
    pt_uint_t           i, size, start;
    pt_http_map_key_t  *k;

    if (h->nelts == 0) {
        return PT_OK;
    }

    if (mcf->hash_max_size == 0) {
        pt_log_error(PT_LOG_EMERG, cf->log, 0, "could not build map_hash, you should "
                     "increase map_hash_max_size: 0");
        return PT_ERROR;
    }

    if (mcf->hash_bucket_size > 65536 - pt_cacheline_size) {
        pt_log_error(PT_LOG_EMERG, cf->log, 0, "could not build map_hash, too large "
                     "map_hash_bucket_size: %lu", (unsigned long) mcf->hash_bucket_size);
        return PT_ERROR;
    }

    for (i = 0; i <= h->mask; i++) {
        k = h->slots[i];
        if (k && mcf->hash_bucket_size < pt_http_map_elt_size(k->key.len) + sizeof(void *)) {
            pt_log_error(PT_LOG_EMERG, cf->log, 0, "could not build map_hash, you should "
                         "increase map_hash_bucket_size: %lu",
                         (unsigned long) mcf->hash_bucket_size);
            return PT_ERROR;
        }
    }

    test = pt_palloc(cf->temp_pool, mcf->hash_max_size * sizeof(uint32_t));
    if (test == NULL) {
        return PT_ERROR;
    }

    bucket = mcf->hash_bucket_size - sizeof(void *);
    start = h->nelts / (bucket / (2 * sizeof(void *)));
    start = start ? start : 1;

    if (mcf->hash_max_size > 10000 && mcf->hash_max_size / h->nelts < 100) {
        start = mcf->hash_max_size - 1000;
    }

    for (size = start; size <= mcf->hash_max_size; size++) {
        if (pt_http_map_hash_fits(h, size, bucket, test)) {
            return PT_OK;
        }
    }

    pt_log_error(PT_LOG_WARN, cf->log, 0, "could not build optimal map_hash, you should "
                 "increase either map_hash_max_size: %lu or map_hash_bucket_size: %lu; "
                 "ignoring map_hash_bucket_size", (unsigned long) mcf->hash_max_size,
                 (unsigned long) mcf->hash_bucket_size);

    return PT_OK;
}

/* ---- lookup ---- */

static pt_http_variable_value_t *
pt_http_map_lookup(pt_http_map_hash_t *h, u_char *data, size_t len)
{
    pt_http_map_key_t  *k;

    k = pt_http_map_hash_find(h, data, len, pt_hash_key_lc(data, len));

    return k ? k->value : NULL;
}

/* Hostname wildcards: the longest ".suffix" of s in the head table, else
 * the longest "prefix." in the tail table. */
static pt_http_variable_value_t *
pt_http_map_find_wildcard(pt_http_map_t *map, pt_str_t *s)
{
    size_t                     i;
    pt_http_variable_value_t  *value;

    if (map->head.nelts) {
        /* the leftmost dot gives the longest suffix, the most specific */
        for (i = 1; i < s->len; i++) {
            if (s->data[i] == '.'
                && (value = pt_http_map_lookup(&map->head, s->data + i, s->len - i)))
            {
                return value;
            }
        }
    }

    if (map->tail.nelts) {
        for (i = s->len; i > 0; i--) {
            if (s->data[i - 1] == '.'
                && (value = pt_http_map_lookup(&map->tail, s->data, i)))
            {
                return value;
            }
        }
    }

    return NULL;
}

/* The value for s, or NULL (no key matched, or a regex failed). */
static pt_http_variable_value_t *
pt_http_map_find(pt_http_request_t *r, pt_http_map_t *map, pt_str_t *s)
{
    pt_int_t                   rc;
    pt_uint_t                  i;
    pt_http_variable_value_t  *value;

    value = pt_http_map_lookup(&map->exact, s->data, s->len);
    if (value) {
        return value;
    }

    if (s->len == 0) {
        return NULL;
    }

    if (map->hostnames && (value = pt_http_map_find_wildcard(map, s))) {
        return value;
    }

    for (i = 0; i < map->nregex; i++) {
        rc = pt_http_regex_exec(r, map->regex[i].regex, s);

        if (rc == PT_OK) {
            return map->regex[i].value;
        }

        if (rc != PT_DECLINED) {
            return NULL;
        }
    }

    return NULL;
}

/* The string the map looks up.  A lone variable is taken as it is, with
 * no copy (a complex value is assembled in the request's pool). */
static pt_int_t
pt_http_map_source(pt_http_request_t *r, pt_http_map_t *map, pt_str_t *s)
{
    pt_http_cv_part_t         *part;
    pt_http_variable_value_t  *vv;

    part = map->source.parts;

    if (map->source.nparts == 1 && part->type == PT_HTTP_CV_VARIABLE) {
        vv = pt_http_get_flushed_variable(r, part->index);

        /* a variable that failed counts as empty, as in a complex value */
        if (vv == NULL || vv->not_found) {
            s->data = (u_char *) "";
            s->len = 0;
        } else {
            s->data = vv->data;
            s->len = vv->len;
        }

        return PT_OK;
    }

    return pt_http_complex_value(r, &map->source, s);
}

static pt_int_t
pt_http_map_evaluate(pt_http_request_t *r, pt_http_map_t *map, pt_http_variable_value_t *v)
{
    pt_str_t                   s, str;
    pt_http_variable_value_t  *value;

    if (pt_http_map_source(r, map, &s) != PT_OK) {
        return PT_ERROR;
    }

    /* "example.com." is the name "example.com" */
    if (map->hostnames && s.len && s.data[s.len - 1] == '.') {
        s.len--;
    }

    value = pt_http_map_find(r, map, &s);

    if (value == NULL) {
        value = map->default_value;
    }

    if (value->valid) {
        *v = *value;
        return PT_OK;
    }

    /* a value with variables: evaluated now, after the match set the
     * captures it may use */
    if (pt_http_complex_value(r, (pt_http_complex_value_t *) value->data, &str) != PT_OK) {
        return PT_ERROR;
    }

    v->len = str.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->escape = 0;
    v->data = str.data;

    return PT_OK;
}

/* Maps nested deeper than this are taken for a cycle ("map $x $x", or a
 * value that uses its own variable), which would otherwise recurse until
 * the stack runs out.  A worker evaluates one variable at a time, so one
 * counter is enough. */
#define PT_HTTP_MAP_MAX_DEPTH  100

static pt_uint_t  pt_http_map_depth;

static pt_int_t
pt_http_map_variable(pt_http_request_t *r, pt_http_variable_value_t *v, uintptr_t data)
{
    pt_http_map_t *map = (pt_http_map_t *) data;

    pt_int_t  rc;

    if (pt_http_map_depth >= PT_HTTP_MAP_MAX_DEPTH) {
        pt_log_error(PT_LOG_ERR, r->connection->log, 0,
                     "cycle while evaluating variable \"" PT_STR_FMT "\"",
                     PT_STR_ARG(map->name));
        return PT_ERROR;
    }

    pt_http_map_depth++;
    rc = pt_http_map_evaluate(r, map, v);
    pt_http_map_depth--;

    return rc;
}

/* ---- configuration ---- */

static void *
pt_http_map_create_main_conf(pt_conf_t *cf)
{
    pt_http_map_main_conf_t  *mcf;

    mcf = pt_palloc(cf->pool, sizeof(pt_http_map_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->hash_max_size = PT_CONF_UNSET_UINT;
    mcf->hash_bucket_size = PT_CONF_UNSET_UINT;

    return mcf;
}

/* A value: a constant is kept as the variable value itself; one with "$"
 * is compiled, and its value holds the complex value with valid unset. */
static pt_http_variable_value_t *
pt_http_map_value(pt_conf_t *cf, pt_str_t *text)
{
    pt_http_complex_value_t          *cv;
    pt_http_variable_value_t         *var;
    pt_http_compile_complex_value_t   ccv;

    var = pt_pcalloc(cf->pool, sizeof(pt_http_variable_value_t));
    if (var == NULL) {
        return NULL;
    }

    if (pt_http_script_variables_count(text) == 0) {
        var->len = text->len;
        var->data = text->data;
        var->valid = 1;
        return var;
    }

    cv = pt_palloc(cf->pool, sizeof(pt_http_complex_value_t));
    if (cv == NULL) {
        return NULL;
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = text;
    ccv.complex_value = cv;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return NULL;
    }

    var->data = (u_char *) cv;

    return var;
}

/* "~regex VALUE" or "~*regex VALUE". */
static char *
pt_http_map_add_regex(pt_conf_t *cf, pt_http_map_conf_ctx_t *ctx, pt_str_t *key,
    pt_http_variable_value_t *var)
{
    pt_http_map_regex_t  *regex;
    pt_regex_compile_t    rc;

    regex = pt_array_push(&ctx->regexes);
    if (regex == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&rc, sizeof(pt_regex_compile_t));

    rc.pattern.data = key->data + 1;
    rc.pattern.len = key->len - 1;

    if (rc.pattern.len && rc.pattern.data[0] == '*') {
        rc.pattern.data++;
        rc.pattern.len--;
        rc.options = PT_REGEX_CASELESS;
    }

    regex->regex = pt_http_regex_compile(cf, &rc);
    if (regex->regex == NULL) {
        return PT_CONF_ERROR;
    }

    regex->value = var;

    return PT_CONF_OK;
}

/* Splits a hostnames key into its table: PT_OK, PT_BUSY (already there) or
 * PT_DECLINED (not a valid wildcard), with nginx's rules: one "*" at most,
 * no "..", and "*" only as "*.name" or "name.*". */
static pt_int_t
pt_http_map_add_hostname(pt_conf_t *cf, pt_http_map_t *map, pt_str_t *key,
    pt_http_variable_value_t *var)
{
    size_t     i;
    pt_int_t   rc;
    pt_str_t   name;
    pt_uint_t  stars;

    for (stars = 0, i = 0; i < key->len; i++) {
        if ((key->data[i] == '*' && ++stars > 1)
            || (key->data[i] == '.' && i + 1 < key->len && key->data[i + 1] == '.')
            || key->data[i] == '\0')
        {
            return PT_DECLINED;
        }
    }

    name = *key;

    if (key->len > 1 && key->data[0] == '.') {
        /* ".example.com" is also "example.com", which an exact key of the
         * same name would contradict */
        name.data++;
        name.len--;
        rc = pt_http_map_hash_add(cf, &map->exact, &name, var);
        if (rc != PT_OK) {
            return rc;
        }
        return pt_http_map_hash_add(cf, &map->head, key, var);
    }

    if (key->len > 2 && key->data[0] == '*' && key->data[1] == '.') {
        name.data++;
        name.len--;
        return pt_http_map_hash_add(cf, &map->head, &name, var);
    }

    if (key->len > 2 && key->data[key->len - 2] == '.' && key->data[key->len - 1] == '*') {
        name.len--;
        return pt_http_map_hash_add(cf, &map->tail, &name, var);
    }

    if (stars) {
        return PT_DECLINED;
    }

    return pt_http_map_hash_add(cf, &map->exact, key, var);
}

/* One line of map {} (the parser's handler while the block is read). */
static char *
pt_http_map_line(pt_conf_t *cf, pt_command_t *dummy, void *conf)
{
    pt_http_map_conf_ctx_t *ctx = conf;

    pt_int_t                   rc;
    pt_str_t                  *value, key;
    pt_http_variable_value_t  *var;

    value = cf->args->elts;

    if (cf->args->nelts == 1 && pt_str_eq_lit(&value[0], "hostnames")) {
        ctx->hostnames = 1;
        ctx->map->hostnames = 1;
        return PT_CONF_OK;
    }

    if (cf->args->nelts == 1 && pt_str_eq_lit(&value[0], "volatile")) {
        ctx->no_cacheable = 1;
        return PT_CONF_OK;
    }

    if (cf->args->nelts != 2) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid number of the map parameters");
        return PT_CONF_ERROR;
    }

    if (pt_str_eq_lit(&value[0], "include")) {
        return pt_conf_include(cf, dummy, conf);
    }

    var = pt_http_map_value(cf, &value[1]);
    if (var == NULL) {
        return PT_CONF_ERROR;
    }

    key = value[0];

    if (pt_str_eq_lit(&key, "default")) {
        if (ctx->default_value) {
            pt_conf_log_error(PT_LOG_EMERG, cf, 0, "duplicate default map parameter");
            return PT_CONF_ERROR;
        }
        ctx->default_value = var;
        return PT_CONF_OK;
    }

    if (key.len && key.data[0] == '~') {
        return pt_http_map_add_regex(cf, ctx, &key, var);
    }

    /* "\default", "\~name", "\hostnames": the word itself as a key */
    if (key.len && key.data[0] == '\\') {
        key.data++;
        key.len--;
    }

    rc = ctx->hostnames ? pt_http_map_add_hostname(cf, ctx->map, &key, var)
                        : pt_http_map_hash_add(cf, &ctx->map->exact, &key, var);

    if (rc == PT_OK) {
        return PT_CONF_OK;
    }

    if (rc == PT_DECLINED) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid hostname or wildcard \""
                          PT_STR_FMT "\"", PT_STR_ARG(key));
    }

    if (rc == PT_BUSY) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "conflicting parameter \""
                          PT_STR_FMT "\"", PT_STR_ARG(key));
    }

    return PT_CONF_ERROR;
}

/* The hash sizes in force for a map: nginx fixes them at the first map,
 * so a map_hash_* directive after it is "duplicate". */
static void
pt_http_map_hash_sizes(pt_http_map_main_conf_t *mcf)
{
    if (mcf->hash_max_size == PT_CONF_UNSET_UINT) {
        mcf->hash_max_size = 2048;
    }

    if (mcf->hash_bucket_size == PT_CONF_UNSET_UINT) {
        mcf->hash_bucket_size = pt_cacheline_size;
    } else {
        mcf->hash_bucket_size = pt_align(mcf->hash_bucket_size, pt_cacheline_size);
    }
}

/* After the block: the tables at their final size, the regexes, the
 * default. */
static char *
pt_http_map_finish(pt_conf_t *cf, pt_http_map_main_conf_t *mcf, pt_http_map_conf_ctx_t *ctx)
{
    pt_http_map_t  *map;

    map = ctx->map;

    map->default_value = ctx->default_value ? ctx->default_value
                                            : &pt_http_variable_null_value;

    if (pt_http_map_hash_check(cf, mcf, &map->exact) != PT_OK) {
        return PT_CONF_ERROR;
    }

    if (pt_http_map_hash_done(cf, &map->exact) != PT_OK
        || pt_http_map_hash_done(cf, &map->head) != PT_OK
        || pt_http_map_hash_done(cf, &map->tail) != PT_OK)
    {
        return PT_CONF_ERROR;
    }

    map->regex = ctx->regexes.elts;
    map->nregex = ctx->regexes.nelts;

    return PT_CONF_OK;
}

/* "map STRING $name { ... }" */
static char *
pt_http_map_block(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_map_main_conf_t *mcf = conf;

    char                             *rv;
    pt_str_t                         *value, name;
    pt_conf_t                         save;
    pt_http_map_t                    *map;
    pt_http_variable_t               *var;
    pt_http_map_conf_ctx_t            ctx;
    pt_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    map = pt_pcalloc(cf->pool, sizeof(pt_http_map_t));
    if (map == NULL) {
        return PT_CONF_ERROR;
    }

    pt_memzero(&ccv, sizeof(pt_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &map->source;

    if (pt_http_compile_complex_value(&ccv) != PT_OK) {
        return PT_CONF_ERROR;
    }

    name = value[2];

    if (pt_http_variable_arg(cf, &name, &name) != PT_OK) {
        return PT_CONF_ERROR;
    }
    map->name = name;

    /* "the duplicate ... variable" when a module owns the name */
    var = pt_http_add_variable(cf, &name, PT_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return PT_CONF_ERROR;
    }

    var->get_handler = pt_http_map_variable;
    var->data = (uintptr_t) map;

    pt_http_map_hash_sizes(mcf);

    pt_memzero(&ctx, sizeof(pt_http_map_conf_ctx_t));
    ctx.map = map;

    if (pt_array_init(&ctx.regexes, cf->pool, 2, sizeof(pt_http_map_regex_t)) != PT_OK) {
        return PT_CONF_ERROR;
    }

    save = *cf;
    cf->handler = pt_http_map_line;
    cf->handler_conf = &ctx;

    rv = pt_conf_parse(cf, NULL);

    *cf = save;

    if (rv != PT_CONF_OK) {
        return rv;
    }

    if (ctx.no_cacheable) {
        var->flags |= PT_HTTP_VAR_NOCACHEABLE;
    }

    return pt_http_map_finish(cf, mcf, &ctx);
}
