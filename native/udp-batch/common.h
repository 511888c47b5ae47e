/*
 * Helpers shared by the addon's two parts (udp_batch.c, http_front.c).
 */
#ifndef ESSAIM_NATIVE_COMMON_H
#define ESSAIM_NATIVE_COMMON_H
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Throws an Error whose `code` is the errno's name for the usual bind failures, else `other`. */
static inline napi_value essaim_throw_errno(napi_env env, const char *what, int err, const char *other) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, error;
  napi_create_string_utf8(env, err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : other,
                          NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_set_named_property(env, error, "code", code);
  napi_throw(env, error);
  return NULL;
}

/* The bytes of an ArrayBuffer or a Uint8Array (SharedArrayBuffer is not an ArrayBuffer for N-API on
   Node 20: typed arrays over one are accepted). 0 when it is neither. */
static inline int essaim_bytes_arg(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (is_ab) return napi_get_arraybuffer_info(env, v, data, len) == napi_ok;
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) return 0;
  napi_typedarray_type t;
  size_t n, off;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &t, &n, data, &ab, &off) != napi_ok) return 0;
  if (t != napi_uint8_array) return 0;
  *len = n;
  return 1;
}

/* The socket address of a numeric host and a port; 0 when host is not an address of that family. */
static inline int essaim_sockaddr(const char *host, int port, int v6, struct sockaddr_in6 *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (v6) {
    out->sin6_family = AF_INET6;
    out->sin6_port = htons((uint16_t)port);
    *len = sizeof *out;
    return inet_pton(AF_INET6, host, &out->sin6_addr) == 1;
  }
  struct sockaddr_in *a4 = (struct sockaddr_in *)out;
  a4->sin_family = AF_INET;
  a4->sin_port = htons((uint16_t)port);
  *len = sizeof *a4;
  return inet_pton(AF_INET, host, &a4->sin_addr) == 1;
}
#endif
