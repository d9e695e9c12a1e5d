/*
 * split_clients.c: unit tests for the hash of split_clients
 * (pt_http_split_clients_murmur2), which must be nginx's
 * ngx_murmur_hash2() bit for bit: the groups of clients depend on it.
 * The expected values agree with the Perl copy in t/http_split_clients.t,
 * whose groups were checked against nginx 1.22; "" hashes to 0 and
 * "hello world" to 0x44a81419, MurmurHash2's published values for seed 0.
 */

#include "pt_http.h"
#include "tap.h"

#if (PT_HAVE_HTTP_SPLIT_CLIENTS_MODULE)

#include "pt_http_split_clients.h"

/* s is printed as is: only printable strings, or say what it is in name */
static void
hash_is(const char *name, const char *s, size_t len, uint32_t want)
{
    uint32_t  h;

    h = pt_http_split_clients_murmur2((u_char *) s, len);

    tap_ok(h == want, "murmur2 of %s (%zu bytes): 0x%08x, want 0x%08x",
           name, len, (unsigned) h, (unsigned) want);
}

int
main(void)
{
    tap_plan(9);

    hash_is("\"\"", "", 0, 0x00000000);
    hash_is("\"a\"", "a", 1, 0x92685f5e);
    hash_is("\"ab\"", "ab", 2, 0x1aa14063);
    hash_is("\"abc\"", "abc", 3, 0x13577c9b);
    hash_is("\"abcd\"", "abcd", 4, 0x26873021);
    hash_is("\"abcde\"", "abcde", 5, 0x5f09a8de);
    hash_is("\"hello world\"", "hello world", 11, 0x44a81419);
    hash_is("\"127.0.0.1AAA\"", "127.0.0.1AAA", 12, 0xb5fc5e4b);
    /* bytes above 0x7f: no sign extension */
    hash_is("ff fe fd fc fb", "\xff\xfe\xfd\xfc\xfb", 5, 0xfae45ebc);

    return tap_done();
}

#else

int
main(void)
{
    printf("1..0 # SKIP http_split_clients not compiled in\n");
    return 0;
}

#endif
