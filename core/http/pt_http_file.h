/*
 * pt_http_file.h: from a request uri to a file, and from a file to its
 * Content-Type.
 *
 *   root PATH;  alias PATH;       where a location's files are
 *   types { TYPE EXT ...; }       extension -> Content-Type (with the
 *                                 default_type fallback of the core)
 *   open_file_cache off | max=N [inactive=time];    (default off, 60s)
 *   open_file_cache_valid time;   (60s)  open_file_cache_min_uses n; (1)
 *   open_file_cache_errors on|off; (off)
 *
 * The directives live in the core module's table; their setters, the
 * mapping and the type lookup are here so the static, index and try_files
 * code share one definition of "the file for this uri".
 *
 * Safety: r->uri is normalized by the parser ("..", "%2e%2e", "%2f" are
 * resolved or refused), and pt_http_map_uri_to_path refuses once more any
 * uri that is not absolute or still holds a ".." segment or a NUL (a
 * rewrite may build one from arguments), so a path never climbs above the
 * root.  Symbolic links inside the root are followed, as nginx does
 * without disable_symlinks.
 */

#ifndef PT_HTTP_FILE_H
#define PT_HTTP_FILE_H

/* One "TYPE EXT" pair of types {}. */
typedef struct {
    pt_str_t            exten;      /* lower case */
    pt_str_t            type;
    pt_uint_t           hash;
} pt_http_type_t;

/* The lookup table built from the pairs of a level (open addressing, the
 * size a power of two, at least twice the number of pairs). */
typedef struct {
    pt_http_type_t    **buckets;
    pt_uint_t           mask;
} pt_http_types_hash_t;

/*
 * Maps r->uri to a file name under the location's root or alias:
 *   root /srv;        /a/b.html -> /srv/a/b.html
 *   alias /srv/x/;    in "location /i/": /i/b.html -> /srv/x/b.html
 *   alias in a regex location: the alias itself (with its captures)
 * path gets the name, NUL-terminated, with reserved spare bytes before the
 * NUL for the caller to append to (an index name, a try_files part);
 * *root_len is the length of the root part ($document_root).  Returns the
 * end of the name (the NUL), or NULL after logging: allocation failure, or
 * a uri that would leave the root (answer 500: only a configuration can
 * build one, the parser refuses such uris with 400).
 */
u_char *pt_http_map_uri_to_path(pt_http_request_t *r, pt_str_t *path,
    size_t *root_len, size_t reserved);

/*
 * The one way the static, index and try_files code (and "if -f") opens or
 * tests a mapped file: through the location's open_file_cache, or
 * directly when it is off.  The caller zeroes of and may set test_only
 * and test_dir; the location's open_file_cache_valid, _min_uses and
 * _errors are filled in here.  Returns as pt_open_cached_file(): on
 * PT_ERROR, of->err 0 means "answer 500" (already logged), else
 * pt_http_file_open_error(r, of->err, of->failed, path) gives the status.
 * A descriptor in of->fd is r's until r->pool goes: never close it.
 */
pt_int_t pt_http_file_open(pt_http_request_t *r, pt_str_t *path,
    pt_open_file_info_t *of);

/* The status for a failed open()/stat() of name (errno err), logged:
 * op names the call ("open()").  404 for a missing file (logged only with log_not_found), 403 when
 * access is denied, 500 otherwise. */
pt_int_t pt_http_file_open_error(pt_http_request_t *r, pt_err_t err, const char *op,
    u_char *name);

/* $document_root: the root (or alias) of the location, evaluated. */
pt_int_t pt_http_document_root(pt_http_request_t *r, pt_str_t *root);

/* Sets Content-Type from r->exten through types {}, else default_type. */
pt_int_t pt_http_file_content_type(pt_http_request_t *r);

/* Sets r->exten from r->uri (after an internal redirect). */
void pt_http_set_exten(pt_http_request_t *r);

/* True when uri is absolute and holds no ".." segment and no NUL. */
pt_uint_t pt_http_uri_is_safe(pt_str_t *uri);

/* Defines $document_root, $realpath_root and $request_filename (called by
 * the static module's preconfiguration). */
pt_int_t pt_http_file_add_variables(pt_conf_t *cf);

/* Setters of the core module's "root", "alias" and "types". */
char *pt_http_file_root(pt_conf_t *cf, pt_command_t *cmd, void *conf);
char *pt_http_file_types(pt_conf_t *cf, pt_command_t *cmd, void *conf);
/* types_hash_max_size / types_hash_bucket_size: checked, then unused (the
 * table sizes itself). */
char *pt_http_file_types_hash_size(pt_conf_t *cf, pt_command_t *cmd, void *conf);
/* "open_file_cache off | max=N [inactive=time]". */
char *pt_http_file_open_file_cache(pt_conf_t *cf, pt_command_t *cmd, void *conf);
/* Merge step of the file settings of a core location conf. */
char *pt_http_file_merge_loc_conf(pt_conf_t *cf, void *prev, void *conf);

#endif /* PT_HTTP_FILE_H */
