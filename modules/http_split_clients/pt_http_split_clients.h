/*
 * pt_http_split_clients.h: the hash of split_clients, for the module and
 * for t/unit/split_clients.c.
 */

#ifndef PT_HTTP_SPLIT_CLIENTS_H
#define PT_HTTP_SPLIT_CLIENTS_H

#include "pt_http.h"

/* MurmurHash2 with seed 0, bytes read little-endian whatever the host:
 * nginx's ngx_murmur_hash2(), on which the groups depend. */
uint32_t pt_http_split_clients_murmur2(u_char *data, size_t len);

#endif /* PT_HTTP_SPLIT_CLIENTS_H */
