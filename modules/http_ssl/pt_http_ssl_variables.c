/*
 * pt_http_ssl_variables.c: the $ssl_* variables.
 *
 * Each one calls a getter of the core TLS wrapper (pt_ssl_vars.c) with the
 * request pool; on a plain connection every $ssl_* variable is not found
 * (logged as "-", empty in strings), as in nginx.
 */

#include "pt_http_ssl_module.h"

static pt_int_t pt_http_ssl_variable(pt_http_request_t *r,
    pt_http_variable_value_t *v, uintptr_t data);

#define PT_SSL_VAR(name, get, flags)                                        \
    { pt_string(name), NULL, pt_http_ssl_variable, (uintptr_t) get, flags, 0 }

static pt_http_variable_t  pt_http_ssl_vars[] = {

    PT_SSL_VAR("ssl_protocol", pt_ssl_get_protocol, 0),
    PT_SSL_VAR("ssl_cipher", pt_ssl_get_cipher_name, 0),
    PT_SSL_VAR("ssl_curve", pt_ssl_get_curve, 0),
    PT_SSL_VAR("ssl_server_name", pt_ssl_get_server_name, 0),
    PT_SSL_VAR("ssl_session_id", pt_ssl_get_session_id, 0),
    PT_SSL_VAR("ssl_session_reused", pt_ssl_get_session_reused, 0),
    PT_SSL_VAR("ssl_alpn_protocol", pt_ssl_get_alpn_protocol, 0),
    PT_SSL_VAR("ssl_client_verify", pt_ssl_get_client_verify, 0),
    PT_SSL_VAR("ssl_client_s_dn", pt_ssl_get_subject_dn, 0),
    PT_SSL_VAR("ssl_client_i_dn", pt_ssl_get_issuer_dn, 0),
    PT_SSL_VAR("ssl_client_serial", pt_ssl_get_serial_number, 0),
    PT_SSL_VAR("ssl_client_fingerprint", pt_ssl_get_fingerprint, 0),
    PT_SSL_VAR("ssl_client_cert", pt_ssl_get_certificate, 0),
    PT_SSL_VAR("ssl_client_raw_cert", pt_ssl_get_raw_certificate, 0),

    pt_http_null_variable
};


pt_int_t
pt_http_ssl_add_variables(pt_conf_t *cf)
{
    pt_http_variable_t  *var, *v;

    for (v = pt_http_ssl_vars; v->name.len; v++) {
        var = pt_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return PT_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return PT_OK;
}


static pt_int_t
pt_http_ssl_variable(pt_http_request_t *r, pt_http_variable_value_t *v,
    uintptr_t data)
{
    pt_str_t            s;
    pt_ssl_variable_pt  get = (pt_ssl_variable_pt) data;

    if (r->connection->ssl == NULL || r->connection->ssl->connection == NULL) {
        v->not_found = 1;
        return PT_OK;
    }

    if (get(r->connection, r->pool, &s) != PT_OK) {
        return PT_ERROR;
    }

    v->len = s.len;
    v->data = s.data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return PT_OK;
}
