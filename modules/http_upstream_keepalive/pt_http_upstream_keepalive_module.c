/*
 * pt_http_upstream_keepalive_module.c: a cache of idle connections to the
 * peers of an upstream group, per worker.
 *
 *   upstream NAME {
 *       ...
 *       keepalive N;                 at most N idle connections cached
 *       keepalive_requests 1000;     requests over one connection
 *       keepalive_time 1h;           lifetime of one connection
 *       keepalive_timeout 60s;       idle time before it is closed
 *   }
 *
 * The module wraps the group's balancer, whichever it is and wherever the
 * directive stands in the block: the balancer picks the peer, then a
 * cached connection to that address is taken if there is one.  A
 * connection goes back to the cache only when its response ended exactly
 * as framed (the protocol module decided the connection is reusable) and
 * the whole request was sent; the least recently used ones are closed when
 * the cache holds more than N.
 *
 * That trim waits for the end of the event loop's batch (a posted event):
 * under load one batch both ends responses and starts requests, and a
 * connection freed by the first is taken by the second instead of being
 * closed while a new one is opened.  Between batches at most N are idle,
 * as nginx's "keepalive N" promises; during a batch up to 2N may be.  An idle cached connection that receives anything
 * (the peer closed it, or sent garbage) is closed at once.
 *
 * The proxy needs "proxy_http_version 1.1" and an empty Connection header
 * for the upstream to keep a connection open.
 */

#include "pt_http.h"

typedef struct {
    pt_uint_t                        max_cached;
    pt_uint_t                        requests;
    pt_msec_t                        time;
    pt_msec_t                        timeout;

    pt_queue_t                       cache;     /* most recently used first */
    pt_queue_t                       free;
    pt_uint_t                        cached;    /* connections in cache */
    pt_event_t                       trim;      /* posted when cached > max */

    pt_http_upstream_init_peer_pt    original_init_peer;
} pt_http_upstream_keepalive_srv_conf_t;

typedef struct {
    pt_http_upstream_keepalive_srv_conf_t  *conf;
    pt_queue_t                              queue;
    pt_connection_t                        *connection;
    socklen_t                               socklen;
    pt_sockaddr_t                           sockaddr;
} pt_http_upstream_keepalive_cache_t;

typedef struct {
    pt_http_upstream_keepalive_srv_conf_t  *conf;
    pt_http_upstream_t                     *upstream;
    void                                   *data;
    pt_peer_get_pt                          original_get_peer;
    pt_peer_free_pt                         original_free_peer;
} pt_http_upstream_keepalive_peer_data_t;

static pt_int_t pt_http_upstream_keepalive_init_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us);
static pt_int_t pt_http_upstream_keepalive_get_peer(pt_peer_connection_t *pc,
    void *data);
static void pt_http_upstream_keepalive_free_peer(pt_peer_connection_t *pc,
    void *data, pt_uint_t state);
static void pt_http_upstream_keepalive_dummy_handler(pt_event_t *ev);
static void pt_http_upstream_keepalive_close_handler(pt_event_t *ev);
static void pt_http_upstream_keepalive_close(pt_connection_t *c);
static void pt_http_upstream_keepalive_trim_handler(pt_event_t *ev);
static void pt_http_upstream_keepalive_drop(pt_http_upstream_keepalive_cache_t *item);
static void *pt_http_upstream_keepalive_create_conf(pt_conf_t *cf);
static char *pt_http_upstream_keepalive_init_main_conf(pt_conf_t *cf, void *conf);
static char *pt_http_upstream_keepalive(pt_conf_t *cf, pt_command_t *cmd, void *conf);

#define PT_HTTP_KEEPALIVE_UPS  (PT_HTTP_UPS_CONF)

static pt_command_t  pt_http_upstream_keepalive_commands[] = {

    { pt_string("keepalive"),
      PT_HTTP_KEEPALIVE_UPS|PT_CONF_TAKE1,
      pt_http_upstream_keepalive, PT_HTTP_SRV_CONF_OFFSET, 0, NULL },

    { pt_string("keepalive_time"),
      PT_HTTP_KEEPALIVE_UPS|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_upstream_keepalive_srv_conf_t, time), NULL },

    { pt_string("keepalive_timeout"),
      PT_HTTP_KEEPALIVE_UPS|PT_CONF_TAKE1,
      pt_conf_set_msec_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_upstream_keepalive_srv_conf_t, timeout), NULL },

    { pt_string("keepalive_requests"),
      PT_HTTP_KEEPALIVE_UPS|PT_CONF_TAKE1,
      pt_conf_set_num_slot, PT_HTTP_SRV_CONF_OFFSET,
      offsetof(pt_http_upstream_keepalive_srv_conf_t, requests), NULL },

      pt_null_command
};

static pt_http_module_t  pt_http_upstream_keepalive_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    pt_http_upstream_keepalive_init_main_conf, /* init main configuration */
    pt_http_upstream_keepalive_create_conf, /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};

pt_module_t  pt_http_upstream_keepalive_module = {
    PT_MODULE_V1,
    &pt_http_upstream_keepalive_module_ctx,
    pt_http_upstream_keepalive_commands,
    PT_HTTP_MODULE,
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* exit process */
    NULL                                   /* exit master */
};

/* ---- configuration ---- */

static void *
pt_http_upstream_keepalive_create_conf(pt_conf_t *cf)
{
    pt_http_upstream_keepalive_srv_conf_t  *conf;

    conf = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_keepalive_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->time = PT_CONF_UNSET_MSEC;
    conf->timeout = PT_CONF_UNSET_MSEC;
    conf->requests = PT_CONF_UNSET_UINT;

    return conf;
}

static char *
pt_http_upstream_keepalive(pt_conf_t *cf, pt_command_t *cmd, void *conf)
{
    pt_http_upstream_keepalive_srv_conf_t  *kcf = conf;

    pt_int_t   n;
    pt_str_t  *value;

    if (kcf->max_cached) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = pt_atoi(value[1].data, value[1].len);

    if (n == PT_ERROR || n == 0) {
        pt_conf_log_error(PT_LOG_EMERG, cf, 0, "invalid value \"%s\" in \"%s\" directive",
                          value[1].data, cmd->name.data);
        return PT_CONF_ERROR;
    }

    kcf->max_cached = n;

    return PT_CONF_OK;
}

/* After every group's balancer built its peers (pt_http_upstream_module
 * comes first): the groups with "keepalive" get the cache around their
 * balancer. */
static char *
pt_http_upstream_keepalive_init_main_conf(pt_conf_t *cf, void *conf)
{
    pt_uint_t                               i, n;
    pt_http_upstream_srv_conf_t           **uscfp;
    pt_http_upstream_main_conf_t           *umcf;
    pt_http_upstream_keepalive_cache_t     *cached;
    pt_http_upstream_keepalive_srv_conf_t  *kcf;

    umcf = pt_http_conf_get_module_main_conf(cf, pt_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {

        if (uscfp[i]->srv_conf == NULL) {
            continue;       /* an implicit group */
        }

        kcf = pt_http_conf_upstream_srv_conf(uscfp[i], pt_http_upstream_keepalive_module);

        if (kcf == NULL || kcf->max_cached == 0) {
            continue;
        }

        pt_conf_init_msec_value(kcf->time, 3600000);
        pt_conf_init_msec_value(kcf->timeout, 60000);
        pt_conf_init_uint_value(kcf->requests, 1000);

        kcf->original_init_peer = uscfp[i]->peer.init;
        uscfp[i]->peer.init = pt_http_upstream_keepalive_init_peer;

        /* twice N: the cache may hold up to 2N until the batch ends */
        cached = pt_pcalloc(cf->pool, sizeof(pt_http_upstream_keepalive_cache_t)
                                      * kcf->max_cached * 2);
        if (cached == NULL) {
            return PT_CONF_ERROR;
        }

        pt_queue_init(&kcf->cache);
        pt_queue_init(&kcf->free);

        kcf->trim.handler = pt_http_upstream_keepalive_trim_handler;
        kcf->trim.data = kcf;
        kcf->trim.log = cf->cycle->log;

        for (n = 0; n < kcf->max_cached * 2; n++) {
            pt_queue_insert_head(&kcf->free, &cached[n].queue);
            cached[n].conf = kcf;
        }
    }

    return PT_CONF_OK;
}

/* ---- per request ---- */

static pt_int_t
pt_http_upstream_keepalive_init_peer(pt_http_request_t *r,
    pt_http_upstream_srv_conf_t *us)
{
    pt_http_upstream_t                      *u;
    pt_http_upstream_keepalive_peer_data_t  *kp;
    pt_http_upstream_keepalive_srv_conf_t   *kcf;

    kcf = pt_http_conf_upstream_srv_conf(us, pt_http_upstream_keepalive_module);

    kp = pt_palloc(r->pool, sizeof(pt_http_upstream_keepalive_peer_data_t));
    if (kp == NULL) {
        return PT_ERROR;
    }

    if (kcf->original_init_peer(r, us) != PT_OK) {
        return PT_ERROR;
    }

    u = r->upstream;

    kp->conf = kcf;
    kp->upstream = u;
    kp->data = u->peer.data;
    kp->original_get_peer = u->peer.get;
    kp->original_free_peer = u->peer.free;

    u->peer.data = kp;
    u->peer.get = pt_http_upstream_keepalive_get_peer;
    u->peer.free = pt_http_upstream_keepalive_free_peer;

    return PT_OK;
}

static pt_int_t
pt_http_upstream_keepalive_get_peer(pt_peer_connection_t *pc, void *data)
{
    pt_http_upstream_keepalive_peer_data_t  *kp = data;

    pt_int_t                             rc;
    pt_queue_t                          *q, *cache;
    pt_connection_t                     *c;
    pt_http_upstream_keepalive_cache_t  *item;

    rc = kp->original_get_peer(pc, kp->data);

    if (rc != PT_OK || pc->no_cache) {
        return rc;
    }

    cache = &kp->conf->cache;

    for (q = pt_queue_head(cache); q != pt_queue_sentinel(cache); q = pt_queue_next(q)) {

        item = pt_queue_data(q, pt_http_upstream_keepalive_cache_t, queue);

        if (pt_cmp_sockaddr(&item->sockaddr.sockaddr, item->socklen,
                            pc->sockaddr, pc->socklen, 1) != PT_OK)
        {
            continue;
        }

        pt_queue_remove(q);
        pt_queue_insert_head(&kp->conf->free, q);
        kp->conf->cached--;

        c = item->connection;
        item->connection = NULL;

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;

        if (c->read->timer_set) {
            pt_event_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;

        return PT_DONE;
    }

    return PT_OK;
}

static void
pt_http_upstream_keepalive_free_peer(pt_peer_connection_t *pc, void *data,
    pt_uint_t state)
{
    pt_http_upstream_keepalive_peer_data_t  *kp = data;

    pt_queue_t                          *q;
    pt_connection_t                     *c;
    pt_http_upstream_t                  *u;
    pt_http_upstream_keepalive_cache_t  *item;

    u = kp->upstream;
    c = pc->connection;

    if ((state & PT_PEER_FAILED) || c == NULL
        || c->read->eof || c->read->error || c->read->timedout
        || c->write->error || c->write->timedout
        || !u->keepalive || u->length != 0 || !u->request_body_sent
        || c->requests >= kp->conf->requests
        || pt_current_msec - c->start_time > kp->conf->time
        || pt_exiting || pt_terminate)
    {
        goto done;
    }

    if (pt_queue_empty(&kp->conf->free)) {
        /* 2N: the least recently used one goes now */
        pt_http_upstream_keepalive_drop(
            pt_queue_data(pt_queue_last(&kp->conf->cache),
                          pt_http_upstream_keepalive_cache_t, queue));
    }

    q = pt_queue_head(&kp->conf->free);
    pt_queue_remove(q);

    item = pt_queue_data(q, pt_http_upstream_keepalive_cache_t, queue);

    if (++kp->conf->cached > kp->conf->max_cached && !kp->conf->trim.posted) {
        pt_post_event(&kp->conf->trim, &pt_posted_events);
    }

    pt_queue_insert_head(&kp->conf->cache, q);

    item->connection = c;
    item->socklen = pc->socklen;
    pt_memcpy(&item->sockaddr, pc->sockaddr, pc->socklen);

    pc->connection = NULL;

    if (c->write->timer_set) {
        pt_event_del_timer(c->write);
    }

    c->write->handler = pt_http_upstream_keepalive_dummy_handler;
    c->read->handler = pt_http_upstream_keepalive_close_handler;

    c->data = item;
    c->idle = 1;
    c->log = pt_cycle->log;
    c->read->log = pt_cycle->log;
    c->write->log = pt_cycle->log;

    pt_event_add_timer(c->read, kp->conf->timeout);

    if (c->read->ready) {
        pt_http_upstream_keepalive_close_handler(c->read);
    }

done:

    kp->original_free_peer(pc, kp->data, state);
}

static void
pt_http_upstream_keepalive_dummy_handler(pt_event_t *ev)
{
}

/* Anything on an idle connection, its timer, or a draining worker ends it. */
static void
pt_http_upstream_keepalive_close_handler(pt_event_t *ev)
{
    int               n;
    char              buf[1];
    pt_connection_t  *c;

    c = ev->data;

    if (!c->close && !ev->timedout) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == -1 && pt_socket_errno == EAGAIN) {
            ev->ready = 0;
            return;
        }
    }

    pt_http_upstream_keepalive_drop(c->data);
}

/* Closes a cached connection and returns its slot. */
static void
pt_http_upstream_keepalive_drop(pt_http_upstream_keepalive_cache_t *item)
{
    pt_http_upstream_keepalive_close(item->connection);

    pt_queue_remove(&item->queue);
    pt_queue_insert_head(&item->conf->free, &item->queue);
    item->connection = NULL;
    item->conf->cached--;
}

/* The end of a batch: back to at most N, the least recently used go. */
static void
pt_http_upstream_keepalive_trim_handler(pt_event_t *ev)
{
    pt_http_upstream_keepalive_srv_conf_t  *kcf = ev->data;

    while (kcf->cached > kcf->max_cached) {
        pt_http_upstream_keepalive_drop(
            pt_queue_data(pt_queue_last(&kcf->cache),
                          pt_http_upstream_keepalive_cache_t, queue));
    }
}

static void
pt_http_upstream_keepalive_close(pt_connection_t *c)
{
    pt_http_upstream_close_connection(c);
}
