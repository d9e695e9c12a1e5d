/*
 * pt_ssl_session.c: TLS session resumption, by id and by ticket.
 *
 * By id: "ssl_session_cache shared:NAME:SIZE" keeps sessions in a shared
 * memory zone (a slab pool), so a session made on one worker resumes on
 * any other, and the zone survives a reload when its name and size stay.
 * OpenSSL's callbacks store (new), find (get) and drop (remove) serialized
 * sessions; an rbtree keyed by a hash of the id finds them, a queue in
 * creation order expires them.  TLS 1.3 without tickets uses the same
 * cache (its "stateful tickets" carry the id).
 *
 * By ticket: the session is encrypted into the ticket with a key of ours.
 * Keys come from ssl_session_ticket_key files (the first encrypts, all
 * decrypt, so a rotated-out key keeps working for one more period and its
 * tickets are renewed); without files one random key is made once per
 * master process, so every worker and every reloaded configuration shares
 * it and tickets resume across workers and reloads.
 */

#include "portico.h"

typedef struct {
    pt_rbtree_node_t      node;         /* key: hash of the id */
    pt_queue_t            queue;        /* creation order, oldest first */
    time_t                expire;
    u_char                id[SSL_MAX_SSL_SESSION_ID_LENGTH];
    u_char                id_len;
    u_short               len;          /* DER bytes in data */
    u_char                data[1];
} pt_ssl_sess_node_t;

typedef struct {
    pt_rbtree_t           rbtree;
    pt_rbtree_node_t      sentinel;
    pt_queue_t            expire_queue;
} pt_ssl_session_cache_t;

static int pt_ssl_new_session(SSL *ssl, SSL_SESSION *sess);
static SSL_SESSION *pt_ssl_get_cached_session(SSL *ssl,
    const unsigned char *id, int len, int *copy);
static void pt_ssl_remove_session(SSL_CTX *ctx, SSL_SESSION *sess);
static void pt_ssl_expire_sessions(pt_ssl_session_cache_t *cache,
    pt_slab_pool_t *shpool, pt_uint_t n);
static pt_ssl_sess_node_t *pt_ssl_find_session(pt_ssl_session_cache_t *cache,
    const u_char *id, size_t len, uint32_t hash);
static uint32_t pt_ssl_id_hash(const u_char *id, size_t len);
static void pt_ssl_sess_insert(pt_rbtree_node_t *root, pt_rbtree_node_t *node,
    pt_rbtree_node_t *sentinel);
static pt_int_t pt_ssl_session_id_context(pt_ssl_t *ssl, pt_str_t *sess_ctx,
    pt_array_t *certificates);
static int pt_ssl_ticket_key_callback(SSL *ssl, unsigned char *name,
    unsigned char *iv, EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc);
static pt_int_t pt_ssl_read_ticket_key(pt_conf_t *cf, pt_str_t *path,
    pt_ssl_ticket_key_t *key);
static int pt_ssl_client_new_session(SSL *ssl, SSL_SESSION *sess);
static SSL_CTX *pt_ssl_session_ctx(SSL *ssl);

/* The ticket key used when none is configured: made once per master. */
static pt_ssl_ticket_key_t  pt_ssl_default_ticket_key;


/*
 * Sets up session resumption by id on a server context.
 *   PT_SSL_NO_SCACHE      "off": sessions are not reused
 *   PT_SSL_NONE_SCACHE    "none": clients are told sessions may be reused,
 *                         but none is stored (nginx's default)
 *   builtin >= 0 / PT_SSL_DFLT_BUILTIN_SCACHE   OpenSSL's per-process cache
 *   shm_zone              the shared cache
 */
pt_int_t
pt_ssl_session_cache(pt_ssl_t *ssl, pt_str_t *sess_ctx, pt_array_t *certificates,
    ssize_t builtin, pt_shm_zone_t *shm_zone, time_t timeout)
{
    long  mode;

    if (builtin == PT_SSL_NO_SCACHE) {
        SSL_CTX_set_session_cache_mode(ssl->ctx, SSL_SESS_CACHE_OFF);
        return PT_OK;
    }

    if (pt_ssl_session_id_context(ssl, sess_ctx, certificates) != PT_OK) {
        return PT_ERROR;
    }

    (void) SSL_CTX_set_timeout(ssl->ctx, (long) timeout);

    if (builtin == PT_SSL_NONE_SCACHE) {
        SSL_CTX_set_session_cache_mode(ssl->ctx,
                                       SSL_SESS_CACHE_SERVER
                                       | SSL_SESS_CACHE_NO_INTERNAL);
        return PT_OK;
    }

    mode = SSL_SESS_CACHE_SERVER;

    if (shm_zone && builtin == PT_SSL_NO_BUILTIN_SCACHE) {
        mode |= SSL_SESS_CACHE_NO_INTERNAL;
    }

    SSL_CTX_set_session_cache_mode(ssl->ctx, mode);

    if (builtin != PT_SSL_NO_BUILTIN_SCACHE) {
        SSL_CTX_sess_set_cache_size(ssl->ctx,
                                    builtin == PT_SSL_DFLT_BUILTIN_SCACHE
                                    ? 20480 : (long) builtin);
    }

    if (shm_zone) {
        SSL_CTX_sess_set_new_cb(ssl->ctx, pt_ssl_new_session);
        SSL_CTX_sess_set_get_cb(ssl->ctx, pt_ssl_get_cached_session);
        SSL_CTX_sess_set_remove_cb(ssl->ctx, pt_ssl_remove_session);

        if (SSL_CTX_set_ex_data(ssl->ctx, pt_ssl_session_cache_index, shm_zone)
            == 0)
        {
            pt_ssl_error(PT_LOG_EMERG, ssl->log, 0, "SSL_CTX_set_ex_data() failed");
            return PT_ERROR;
        }
    }

    return PT_OK;
}


/*
 * A session is only resumed in a context with the same id context.  It is
 * derived from what the session's security depends on: the protocol name
 * and the certificates (so two servers with different certificates never
 * resume each other's sessions, and a client certificate verified for one
 * set of CAs is not accepted for another set).
 */
static pt_int_t
pt_ssl_session_id_context(pt_ssl_t *ssl, pt_str_t *sess_ctx, pt_array_t *certificates)
{
    X509           *cert;
    EVP_MD_CTX     *md;
    pt_uint_t       i;
    pt_str_t       *name;
    unsigned int    len;
    unsigned char   buf[EVP_MAX_MD_SIZE];
    STACK_OF(X509_NAME)  *list;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return PT_ERROR;
    }

    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 0
        || EVP_DigestUpdate(md, sess_ctx->data, sess_ctx->len) == 0)
    {
        goto failed;
    }

    for (i = SSL_CTX_set_current_cert(ssl->ctx, SSL_CERT_SET_FIRST);
         i;
         i = SSL_CTX_set_current_cert(ssl->ctx, SSL_CERT_SET_NEXT))
    {
        cert = SSL_CTX_get0_certificate(ssl->ctx);
        if (cert && X509_digest(cert, EVP_sha256(), buf, &len)
            && EVP_DigestUpdate(md, buf, len) == 0)
        {
            goto failed;
        }
    }

    if (certificates) {
        name = certificates->elts;
        for (i = 0; i < certificates->nelts; i++) {
            if (EVP_DigestUpdate(md, name[i].data, name[i].len) == 0) {
                goto failed;
            }
        }
    }

    list = SSL_CTX_get_client_CA_list(ssl->ctx);
    if (list) {
        for (i = 0; i < (pt_uint_t) sk_X509_NAME_num(list); i++) {
            if (X509_NAME_digest(sk_X509_NAME_value(list, (int) i), EVP_sha256(),
                                 buf, &len)
                && EVP_DigestUpdate(md, buf, len) == 0)
            {
                goto failed;
            }
        }
    }

    if (EVP_DigestFinal_ex(md, buf, &len) == 0) {
        goto failed;
    }

    EVP_MD_CTX_free(md);

    if (SSL_CTX_set_session_id_context(ssl->ctx, buf,
                                       pt_min(len, SSL_MAX_SID_CTX_LENGTH)) == 0)
    {
        pt_ssl_error(PT_LOG_EMERG, ssl->log, 0,
                     "SSL_CTX_set_session_id_context() failed");
        return PT_ERROR;
    }

    return PT_OK;

failed:

    EVP_MD_CTX_free(md);
    pt_ssl_error(PT_LOG_EMERG, ssl->log, 0, "session id context digest failed");

    return PT_ERROR;
}


/* Sessions and tickets belong to the context a connection started with
 * (the default server's), even after SNI switched it to another one:
 * OpenSSL runs that context's callbacks. */
static SSL_CTX *
pt_ssl_session_ctx(SSL *ssl)
{
    pt_connection_t  *c;

    c = SSL_get_ex_data(ssl, pt_ssl_connection_index);

    if (c && c->ssl) {
        return c->ssl->session_ctx;
    }

    return SSL_get_SSL_CTX(ssl);
}


/* zone->init: a fresh zone gets an empty cache; a reused one keeps its
 * sessions (data is the old cycle's root). */
pt_int_t
pt_ssl_session_cache_init(pt_shm_zone_t *zone, void *data)
{
    pt_slab_pool_t          *shpool;
    pt_ssl_session_cache_t  *cache;

    shpool = (pt_slab_pool_t *) zone->shm.addr;

    if (data) {
        zone->data = data;
        return PT_OK;
    }

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return PT_OK;
    }

    cache = pt_slab_alloc(shpool, sizeof(pt_ssl_session_cache_t));
    if (cache == NULL) {
        return PT_ERROR;
    }

    pt_rbtree_init(&cache->rbtree, &cache->sentinel, pt_ssl_sess_insert);
    pt_queue_init(&cache->expire_queue);

    shpool->data = cache;
    zone->data = cache;

    /* a full cache drops the oldest sessions; no need to log each time */
    shpool->log_nomem = 0;

    return PT_OK;
}


/* FNV-1a: ids are random, any cheap mix will do. */
static uint32_t
pt_ssl_id_hash(const u_char *id, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h ^= id[i];
        h *= 16777619u;
    }

    return h;
}


/* Equal hashes are ordered by id so that lookups can walk the tree. */
static void
pt_ssl_sess_insert(pt_rbtree_node_t *temp, pt_rbtree_node_t *node,
    pt_rbtree_node_t *sentinel)
{
    int                  rc;
    pt_rbtree_node_t   **p;
    pt_ssl_sess_node_t  *n, *t;

    for ( ;; ) {
        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (pt_ssl_sess_node_t *) node;
            t = (pt_ssl_sess_node_t *) temp;

            rc = pt_memcmp(n->id, t->id, pt_min(n->id_len, t->id_len));
            if (rc == 0) {
                rc = (int) n->id_len - (int) t->id_len;
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    pt_rbtree_link_leaf(p, node, temp, sentinel);
}


static pt_ssl_sess_node_t *
pt_ssl_find_session(pt_ssl_session_cache_t *cache, const u_char *id, size_t len,
    uint32_t hash)
{
    int                  rc;
    pt_rbtree_node_t    *node, *sentinel;
    pt_ssl_sess_node_t  *sn;

    node = cache->rbtree.root;
    sentinel = cache->rbtree.sentinel;

    while (node != sentinel) {
        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        sn = (pt_ssl_sess_node_t *) node;

        rc = pt_memcmp(id, sn->id, pt_min(len, sn->id_len));
        if (rc == 0) {
            rc = (int) len - (int) sn->id_len;
        }

        if (rc == 0) {
            return sn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* Drops expired sessions from the head of the queue; with n > 0 also
 * drops up to n live ones (to make room). */
static void
pt_ssl_expire_sessions(pt_ssl_session_cache_t *cache, pt_slab_pool_t *shpool,
    pt_uint_t n)
{
    time_t               now;
    pt_queue_t          *q;
    pt_ssl_sess_node_t  *sn;

    now = pt_time();

    while (!pt_queue_empty(&cache->expire_queue)) {
        q = pt_queue_head(&cache->expire_queue);
        sn = pt_queue_data(q, pt_ssl_sess_node_t, queue);

        if (n == 0 && sn->expire > now) {
            return;
        }

        if (n && sn->expire > now) {
            n--;
        }

        pt_queue_remove(q);
        pt_rbtree_delete(&cache->rbtree, &sn->node);
        pt_slab_free_locked(shpool, sn);
    }
}


/* OpenSSL made a session: store it serialized.  Returns 0: OpenSSL keeps
 * no reference for us. */
static int
pt_ssl_new_session(SSL *ssl, SSL_SESSION *sess)
{
    int                      len;
    u_char                  *p;
    uint32_t                 hash;
    unsigned int             id_len;
    const u_char            *id;
    pt_shm_zone_t           *zone;
    pt_slab_pool_t          *shpool;
    pt_ssl_sess_node_t      *sn, *old;
    pt_ssl_session_cache_t  *cache;
    u_char                   buf[PT_SSL_MAX_SESSION_SIZE];

    len = i2d_SSL_SESSION(sess, NULL);

    /* a session with a large client certificate chain is not cached */
    if (len <= 0 || len > PT_SSL_MAX_SESSION_SIZE) {
        return 0;
    }

    p = buf;
    (void) i2d_SSL_SESSION(sess, &p);

    id = SSL_SESSION_get_id(sess, &id_len);
    if (id_len == 0 || id_len > SSL_MAX_SSL_SESSION_ID_LENGTH) {
        return 0;
    }

    zone = SSL_CTX_get_ex_data(pt_ssl_session_ctx(ssl), pt_ssl_session_cache_index);
    if (zone == NULL) {
        return 0;
    }

    shpool = (pt_slab_pool_t *) zone->shm.addr;
    cache = zone->data;
    hash = pt_ssl_id_hash(id, id_len);

    pt_shmtx_lock(&shpool->mutex);

    /* expire first, and one live session if that is all there is */
    pt_ssl_expire_sessions(cache, shpool, 0);

    old = pt_ssl_find_session(cache, id, id_len, hash);
    if (old) {
        pt_queue_remove(&old->queue);
        pt_rbtree_delete(&cache->rbtree, &old->node);
        pt_slab_free_locked(shpool, old);
    }

    sn = pt_slab_alloc_locked(shpool, offsetof(pt_ssl_sess_node_t, data) + len);

    if (sn == NULL) {
        pt_ssl_expire_sessions(cache, shpool, 2);
        sn = pt_slab_alloc_locked(shpool, offsetof(pt_ssl_sess_node_t, data) + len);
    }

    if (sn == NULL) {
        pt_shmtx_unlock(&shpool->mutex);
        return 0;
    }

    sn->node.key = hash;
    pt_memcpy(sn->id, id, id_len);
    sn->id_len = (u_char) id_len;
    sn->len = (u_short) len;
    pt_memcpy(sn->data, buf, len);
    sn->expire = pt_time() + SSL_SESSION_get_timeout(sess);

    pt_rbtree_insert(&cache->rbtree, &sn->node);
    pt_queue_insert_tail(&cache->expire_queue, &sn->queue);

    pt_shmtx_unlock(&shpool->mutex);

    return 0;
}


/* A client offers a session id: a copy of the stored session, or NULL. */
static SSL_SESSION *
pt_ssl_get_cached_session(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    size_t                   n;
    uint32_t                 hash;
    const u_char            *p;
    SSL_SESSION             *sess;
    pt_shm_zone_t           *zone;
    pt_slab_pool_t          *shpool;
    pt_ssl_sess_node_t      *sn;
    pt_ssl_session_cache_t  *cache;
    u_char                   buf[PT_SSL_MAX_SESSION_SIZE];

    *copy = 0;

    if (len <= 0 || len > SSL_MAX_SSL_SESSION_ID_LENGTH) {
        return NULL;
    }

    zone = SSL_CTX_get_ex_data(pt_ssl_session_ctx(ssl), pt_ssl_session_cache_index);
    if (zone == NULL) {
        return NULL;
    }

    shpool = (pt_slab_pool_t *) zone->shm.addr;
    cache = zone->data;
    hash = pt_ssl_id_hash(id, len);

    pt_shmtx_lock(&shpool->mutex);

    sn = pt_ssl_find_session(cache, id, len, hash);

    if (sn == NULL) {
        pt_shmtx_unlock(&shpool->mutex);
        return NULL;
    }

    if (sn->expire <= pt_time()) {
        pt_queue_remove(&sn->queue);
        pt_rbtree_delete(&cache->rbtree, &sn->node);
        pt_slab_free_locked(shpool, sn);
        pt_shmtx_unlock(&shpool->mutex);
        return NULL;
    }

    n = sn->len;
    pt_memcpy(buf, sn->data, n);

    pt_shmtx_unlock(&shpool->mutex);

    p = buf;
    sess = d2i_SSL_SESSION(NULL, &p, (long) n);

    if (sess == NULL) {
        ERR_clear_error();
    }

    return sess;
}


/* OpenSSL drops a session (it failed, or expired in its eyes). */
static void
pt_ssl_remove_session(SSL_CTX *ctx, SSL_SESSION *sess)
{
    uint32_t                 hash;
    unsigned int             len;
    const u_char            *id;
    pt_shm_zone_t           *zone;
    pt_slab_pool_t          *shpool;
    pt_ssl_sess_node_t      *sn;
    pt_ssl_session_cache_t  *cache;

    zone = SSL_CTX_get_ex_data(ctx, pt_ssl_session_cache_index);
    if (zone == NULL) {
        return;
    }

    id = SSL_SESSION_get_id(sess, &len);
    if (len == 0 || len > SSL_MAX_SSL_SESSION_ID_LENGTH) {
        return;
    }

    shpool = (pt_slab_pool_t *) zone->shm.addr;
    cache = zone->data;
    hash = pt_ssl_id_hash(id, len);

    pt_shmtx_lock(&shpool->mutex);

    sn = pt_ssl_find_session(cache, id, len, hash);
    if (sn) {
        pt_queue_remove(&sn->queue);
        pt_rbtree_delete(&cache->rbtree, &sn->node);
        pt_slab_free_locked(shpool, sn);
    }

    pt_shmtx_unlock(&shpool->mutex);
}


/* ---- tickets ---- */

pt_int_t
pt_ssl_session_ticket_keys(pt_conf_t *cf, pt_ssl_t *ssl, pt_flag_t enable,
    pt_array_t *paths)
{
    pt_uint_t             i;
    pt_str_t             *path;
    pt_array_t           *keys;
    pt_ssl_ticket_key_t  *key;

    if (!enable) {
        SSL_CTX_set_options(ssl->ctx, SSL_OP_NO_TICKET);
        return PT_OK;
    }

    keys = pt_array_create(cf->pool, paths ? paths->nelts : 1,
                           sizeof(pt_ssl_ticket_key_t));
    if (keys == NULL) {
        return PT_ERROR;
    }

    if (paths == NULL || paths->nelts == 0) {
        if (pt_ssl_default_ticket_key.size == 0) {
            /* once per master: inherited by every worker, kept by reloads */
            if (RAND_bytes(pt_ssl_default_ticket_key.name, 16) != 1
                || RAND_bytes(pt_ssl_default_ticket_key.hmac_key, 32) != 1
                || RAND_bytes(pt_ssl_default_ticket_key.aes_key, 32) != 1)
            {
                pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "RAND_bytes() failed");
                return PT_ERROR;
            }
            pt_ssl_default_ticket_key.size = 80;
        }

        key = pt_array_push(keys);
        if (key == NULL) {
            return PT_ERROR;
        }
        *key = pt_ssl_default_ticket_key;

    } else {
        path = paths->elts;

        for (i = 0; i < paths->nelts; i++) {
            key = pt_array_push(keys);
            if (key == NULL) {
                return PT_ERROR;
            }
            if (pt_ssl_read_ticket_key(cf, &path[i], key) != PT_OK) {
                return PT_ERROR;
            }
        }
    }

    if (SSL_CTX_set_ex_data(ssl->ctx, pt_ssl_ticket_keys_index, keys) == 0) {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0, "SSL_CTX_set_ex_data() failed");
        return PT_ERROR;
    }

    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ssl->ctx, pt_ssl_ticket_key_callback)
        == 0)
    {
        pt_ssl_error(PT_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_set_tlsext_ticket_key_evp_cb() failed");
        return PT_ERROR;
    }

    return PT_OK;
}


/* A key file holds 48 bytes (name, AES-128 key, HMAC key) or 80 bytes
 * (name, HMAC key, AES-256 key), as nginx's. */
static pt_int_t
pt_ssl_read_ticket_key(pt_conf_t *cf, pt_str_t *path, pt_ssl_ticket_key_t *key)
{
    pt_str_t  content;

    if (pt_conf_full_name(cf->cycle, path, 1) != PT_OK) {
        return PT_ERROR;
    }

    if (pt_read_whole_file(cf->temp_pool, path, &content) != PT_OK) {
        pt_conf_log_error(PT_LOG_EMERG, cf, pt_errno,
                          "open() \"" PT_STR_FMT "\" failed", PT_STR_ARG(*path));
        return PT_ERROR;
    }

    pt_memzero(key, sizeof(pt_ssl_ticket_key_t));

    if (content.len == 48) {
        key->size = 48;
        pt_memcpy(key->name, content.data, 16);
        pt_memcpy(key->aes_key, content.data + 16, 16);
        pt_memcpy(key->hmac_key, content.data + 32, 16);

    } else if (content.len == 80) {
        key->size = 80;
        pt_memcpy(key->name, content.data, 16);
        pt_memcpy(key->hmac_key, content.data + 16, 32);
        pt_memcpy(key->aes_key, content.data + 48, 32);

    } else {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0,
                          "\"" PT_STR_FMT "\" must be 48 or 80 bytes",
                          PT_STR_ARG(*path));
        OPENSSL_cleanse(content.data, content.len);
        return PT_ERROR;
    }

    OPENSSL_cleanse(content.data, content.len);

    return PT_OK;
}


/*
 * enc = 1: a new ticket, with the first key.  enc = 0: find the key by the
 * ticket's name; 1 accepts, 2 accepts and asks for a renewed ticket (the
 * key is no longer the first), 0 refuses (a full handshake follows).
 */
static int
pt_ssl_ticket_key_callback(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
    size_t                i, hlen;
    SSL_CTX              *ctx;
    OSSL_PARAM            params[3];
    pt_array_t           *keys;
    const EVP_CIPHER     *cipher;
    pt_ssl_ticket_key_t  *key;

    ctx = pt_ssl_session_ctx(ssl);
    keys = SSL_CTX_get_ex_data(ctx, pt_ssl_ticket_keys_index);

    if (keys == NULL || keys->nelts == 0) {
        return 0;
    }

    key = keys->elts;

    if (enc == 1) {
        i = 0;

        if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) {
            return -1;
        }

        pt_memcpy(name, key[0].name, 16);

    } else {
        for (i = 0; i < keys->nelts; i++) {
            if (pt_memcmp(name, key[i].name, 16) == 0) {
                break;
            }
        }

        if (i == keys->nelts) {
            return 0;
        }
    }

    cipher = (key[i].size == 48) ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    hlen = (key[i].size == 48) ? 16 : 32;

    params[0] = OSSL_PARAM_construct_octet_string("key", key[i].hmac_key, hlen);
    params[1] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();

    if (EVP_MAC_CTX_set_params(hctx, params) == 0) {
        return -1;
    }

    if (enc == 1) {
        if (EVP_EncryptInit_ex(ectx, cipher, NULL, key[i].aes_key, iv) != 1) {
            return -1;
        }
        return 1;
    }

    if (EVP_DecryptInit_ex(ectx, cipher, NULL, key[i].aes_key, iv) != 1) {
        return -1;
    }

    /*
     * TLS 1.3 always renews: OpenSSL sends no new ticket after a resumption
     * the callback accepted with 1, and a client that does not reuse tickets
     * (RFC 8446 C.4) then falls back to a full handshake every other time.
     */
    if (SSL_version(ssl) == TLS1_3_VERSION) {
        return 2;
    }

    return (i == 0) ? 1 : 2;
}


/* ---- the client side ---- */

/* Upstream connections resume sessions: OpenSSL hands each new session to
 * c->ssl->save_session (in TLS 1.3 that happens after the handshake). */
pt_int_t
pt_ssl_client_session_cache(pt_conf_t *cf, pt_ssl_t *ssl, pt_uint_t enable)
{
    (void) cf;

    if (!enable) {
        SSL_CTX_set_session_cache_mode(ssl->ctx, SSL_SESS_CACHE_OFF);
        return PT_OK;
    }

    SSL_CTX_set_session_cache_mode(ssl->ctx, SSL_SESS_CACHE_CLIENT
                                             | SSL_SESS_CACHE_NO_INTERNAL);

    SSL_CTX_sess_set_new_cb(ssl->ctx, pt_ssl_client_new_session);

    return PT_OK;
}


static int
pt_ssl_client_new_session(SSL *ssl, SSL_SESSION *sess)
{
    pt_connection_t  *c;

    (void) sess;

    c = SSL_get_ex_data(ssl, pt_ssl_connection_index);

    if (c && c->ssl && c->ssl->save_session) {
        c->ssl->save_session(c);
    }

    return 0;
}
