/*
 * Batched UDP I/O for Essaim's tracker (Linux): one non-blocking socket polled on the main libuv
 * loop. When it is readable, recvmmsg moves up to `slots` datagrams at once into memory shared
 * with JavaScript (payload slots plus a metadata table) and JavaScript is called once per batch.
 * JavaScript writes its answers into a second shared area and calls send(), which hands them to
 * the kernel with sendmmsg.
 *
 * Shared layouts (all little-endian int32 words, 32 bytes per entry):
 *   input meta, per slot i:  [0] length  [1] flags (1 = truncated)  [2] port  [3] family (4|6)
 *                            bytes 16..31: address (4 bytes for IPv4, 16 for IPv6)
 *   output meta, per entry:  [0] offset in the output area  [1] length  [2] port  [3] family
 *                            bytes 16..31: address
 *
 * JavaScript API:
 *   open(host, port, v6, inBuf, inMeta, outBuf, outMeta, slots, slotSize, outSlots, onBatch)
 *     -> [handle, boundPort]; onBatch(count) is called with the number of datagrams received.
 *   send(handle, count) -> number of datagrams handed to the kernel (the rest were dropped).
 *   close(handle)
 *   adviseHuge(arrayBuffer) -> bytes of it (whole 2 MiB pages inside it) now advised
 *     MADV_HUGEPAGE, 0 when none (too small, or the kernel refused); for the peer store's large
 *     typed arrays, called before they are first written.
 * The module also carries the HTTP tracker's TCP front (http_front.c: httpOpen and the rest).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"

#define META_WORDS 8
#define MAX_ROUNDS 8

typedef struct {
  napi_env env;
  int fd;
  int v6;
  int closing;      /* close() or the finalizer started closing the poll handle */
  int handle_closed; /* the poll handle is closed and the socket released */
  int finalized;     /* the JavaScript handle was garbage-collected */
  uv_poll_t poll;
  napi_ref cb;
  napi_ref bufs[4];
  napi_async_context actx;
  uint8_t *in;
  int32_t *in_meta;
  uint8_t *out;
  int32_t *out_meta;
  size_t out_size;
  int slots;
  int slot_size;
  int out_slots;
  struct mmsghdr *rmsgs;
  struct iovec *riovs;
  struct sockaddr_in6 *raddrs;
  struct mmsghdr *smsgs;
  struct iovec *siovs;
  struct sockaddr_in6 *saddrs;
} sock_t;

#define CHECK(env, call)                                   \
  do {                                                     \
    if ((call) != napi_ok) {                               \
      napi_throw_error((env), NULL, "udp-batch: " #call);  \
      return NULL;                                         \
    }                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) { return essaim_throw_errno(env, what, err, "EUDPBATCH"); }

static void free_sock(sock_t *s) {
  free(s->rmsgs);
  free(s->riovs);
  free(s->raddrs);
  free(s->smsgs);
  free(s->siovs);
  free(s->saddrs);
  free(s);
}

static void on_closed(uv_handle_t *h) {
  sock_t *s = (sock_t *)h->data;
  napi_env env = s->env;
  if (s->fd >= 0) close(s->fd);
  napi_delete_reference(env, s->cb);
  s->fd = -1;
  for (int i = 0; i < 4; i++) napi_delete_reference(env, s->bufs[i]);
  napi_async_destroy(env, s->actx);
  s->handle_closed = 1;
  /* The state outlives the socket until the JavaScript handle is gone (send/close stay safe). */
  if (s->finalized) free_sock(s);
}

static void start_close(sock_t *s) {
  if (s->closing) return;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
  /* uv_close has taken the descriptor out of the loop's epoll set: release the port now, so that
     it can be bound again at once. */
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

static void on_finalize(napi_env env, void *data, void *hint) {
  sock_t *s = (sock_t *)data;
  s->finalized = 1;
  if (!s->closing) start_close(s);
  else if (s->handle_closed) free_sock(s);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  sock_t *s = (sock_t *)h->data;
  if (status < 0 || s->closing) return;
  for (int round = 0; round < MAX_ROUNDS && !s->closing; round++) {
    for (int i = 0; i < s->slots; i++) {
      s->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
      s->rmsgs[i].msg_hdr.msg_flags = 0;
      s->rmsgs[i].msg_len = 0;
    }
    int n = recvmmsg(s->fd, s->rmsgs, (unsigned)s->slots, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN, or an error a later datagram may clear */
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      int32_t *m = s->in_meta + i * META_WORDS;
      uint8_t *addr = (uint8_t *)(m + 4);
      struct msghdr *mh = &s->rmsgs[i].msg_hdr;
      m[0] = (int32_t)s->rmsgs[i].msg_len;
      m[1] = (mh->msg_flags & MSG_TRUNC) ? 1 : 0;
      memset(addr, 0, 16);
      const struct sockaddr *sa = (const struct sockaddr *)mh->msg_name;
      if (sa->sa_family == AF_INET && mh->msg_namelen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        m[2] = ntohs(a4->sin_port);
        m[3] = 4;
        memcpy(addr, &a4->sin_addr, 4);
      } else if (sa->sa_family == AF_INET6 && mh->msg_namelen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        m[2] = ntohs(a6->sin6_port);
        m[3] = 6;
        memcpy(addr, &a6->sin6_addr, 16);
      } else {
        m[2] = 0;
        m[3] = 0;
      }
    }
    napi_env env = s->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value cb, global, arg, result;
    if (napi_get_reference_value(env, s->cb, &cb) == napi_ok && napi_get_global(env, &global) == napi_ok &&
        napi_create_int32(env, n, &arg) == napi_ok) {
      napi_status st = napi_make_callback(env, s->actx, global, cb, 1, &arg, &result);
      if (st == napi_pending_exception) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
      }
    }
    napi_close_handle_scope(env, scope);
    if (n < s->slots) return;
  }
}

static sock_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "udp-batch: not a socket handle");
    return NULL;
  }
  return (sock_t *)p;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, NULL, "udp-batch: open() takes 11 arguments");
    return NULL;
  }
  char host[64];
  size_t hl = 0;
  int32_t port, slots, slot_size, out_slots;
  bool v6;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_bool(env, argv[2], &v6) != napi_ok ||
      napi_get_value_int32(env, argv[7], &slots) != napi_ok || napi_get_value_int32(env, argv[8], &slot_size) != napi_ok ||
      napi_get_value_int32(env, argv[9], &out_slots) != napi_ok) {
    napi_throw_type_error(env, NULL, "udp-batch: bad arguments to open()");
    return NULL;
  }
  napi_valuetype cbt;
  CHECK(env, napi_typeof(env, argv[10], &cbt));
  if (cbt != napi_function || port < 0 || port > 65535 || slots < 1 || slots > 1024 || slot_size < 16 ||
      slot_size > 65536 || out_slots < 1 || out_slots > 1024) {
    napi_throw_range_error(env, NULL, "udp-batch: bad arguments to open()");
    return NULL;
  }
  void *bufs[4];
  size_t lens[4];
  for (int i = 0; i < 4; i++) {
    if (!essaim_bytes_arg(env, argv[3 + i], &bufs[i], &lens[i])) {
      napi_throw_type_error(env, NULL, "udp-batch: buffers must be ArrayBuffers or Uint8Arrays");
      return NULL;
    }
  }
  if (lens[0] < (size_t)slots * (size_t)slot_size || lens[1] < (size_t)slots * META_WORDS * 4 ||
      lens[3] < (size_t)out_slots * META_WORDS * 4 || ((uintptr_t)bufs[1] & 3) || ((uintptr_t)bufs[3] & 3)) {
    napi_throw_range_error(env, NULL, "udp-batch: buffers too small or misaligned");
    return NULL;
  }

  struct sockaddr_in6 addr;
  socklen_t addr_len;
  if (!essaim_sockaddr(host, port, v6, &addr, &addr_len))
    return throw_errno(env, v6 ? "udp-batch: not an IPv6 address" : "udp-batch: not an IPv4 address", EINVAL);
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "udp-batch: socket", errno);
  int one = 1, size = 4 << 20;
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  int rc = bind(fd, (struct sockaddr *)&addr, addr_len);
  if (rc != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "udp-batch: bind", e);
  }
  struct sockaddr_in6 bound;
  socklen_t bl = sizeof bound;
  memset(&bound, 0, sizeof bound);
  if (getsockname(fd, (struct sockaddr *)&bound, &bl) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "udp-batch: getsockname", e);
  }
  int bound_port = ntohs(v6 ? bound.sin6_port : ((struct sockaddr_in *)&bound)->sin_port);

  sock_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "udp-batch: calloc", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  s->v6 = v6;
  s->in = bufs[0];
  s->in_meta = bufs[1];
  s->out = bufs[2];
  s->out_size = lens[2];
  s->out_meta = bufs[3];
  s->slots = slots;
  s->slot_size = slot_size;
  s->out_slots = out_slots;
  s->rmsgs = calloc((size_t)slots, sizeof *s->rmsgs);
  s->riovs = calloc((size_t)slots, sizeof *s->riovs);
  s->raddrs = calloc((size_t)slots, sizeof *s->raddrs);
  s->smsgs = calloc((size_t)out_slots, sizeof *s->smsgs);
  s->siovs = calloc((size_t)out_slots, sizeof *s->siovs);
  s->saddrs = calloc((size_t)out_slots, sizeof *s->saddrs);
  if (!s->rmsgs || !s->riovs || !s->raddrs || !s->smsgs || !s->siovs || !s->saddrs) {
    close(fd);
    free_sock(s);
    return throw_errno(env, "udp-batch: calloc", ENOMEM);
  }
  for (int i = 0; i < slots; i++) {
    s->riovs[i].iov_base = s->in + (size_t)i * (size_t)slot_size;
    s->riovs[i].iov_len = (size_t)slot_size;
    s->rmsgs[i].msg_hdr.msg_iov = &s->riovs[i];
    s->rmsgs[i].msg_hdr.msg_iovlen = 1;
    s->rmsgs[i].msg_hdr.msg_name = &s->raddrs[i];
  }
  napi_value name;
  if (napi_create_reference(env, argv[10], 1, &s->cb) != napi_ok ||
      napi_create_string_utf8(env, "essaim:udp-batch", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &s->actx) != napi_ok) {
    close(fd);
    free_sock(s);
    napi_throw_error(env, NULL, "udp-batch: napi setup failed");
    return NULL;
  }
  for (int i = 0; i < 4; i++) napi_create_reference(env, argv[3 + i], 1, &s->bufs[i]);

  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  uv_poll_init_socket(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);

  napi_value handle, portv, result;
  CHECK(env, napi_create_external(env, s, on_finalize, NULL, &handle));
  CHECK(env, napi_create_int32(env, bound_port, &portv));
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  CHECK(env, napi_set_element(env, result, 0, handle));
  CHECK(env, napi_set_element(env, result, 1, portv));
  return result;
}

/* Fills the sendmmsg headers for entries [from, to); entries that are malformed get length -1. */
static int prepare(sock_t *s, int from, int to) {
  int k = 0;
  for (int i = from; i < to; i++) {
    int32_t *m = s->out_meta + i * META_WORDS;
    const uint8_t *addr = (const uint8_t *)(m + 4);
    int32_t off = m[0], len = m[1], port = m[2], fam = m[3];
    if (off < 0 || len < 0 || (size_t)off + (size_t)len > s->out_size || port < 1 || port > 65535 ||
        (fam != 4 && fam != 6) || (fam == 6 && !s->v6) || (fam == 4 && s->v6))
      continue;
    struct sockaddr_in6 *sa6 = &s->saddrs[k];
    memset(sa6, 0, sizeof *sa6);
    socklen_t alen;
    if (fam == 4) {
      struct sockaddr_in *sa4 = (struct sockaddr_in *)sa6;
      sa4->sin_family = AF_INET;
      sa4->sin_port = htons((uint16_t)port);
      memcpy(&sa4->sin_addr, addr, 4);
      alen = sizeof *sa4;
    } else {
      sa6->sin6_family = AF_INET6;
      sa6->sin6_port = htons((uint16_t)port);
      memcpy(&sa6->sin6_addr, addr, 16);
      alen = sizeof *sa6;
    }
    s->siovs[k].iov_base = s->out + off;
    s->siovs[k].iov_len = (size_t)len;
    memset(&s->smsgs[k], 0, sizeof s->smsgs[k]);
    s->smsgs[k].msg_hdr.msg_iov = &s->siovs[k];
    s->smsgs[k].msg_hdr.msg_iovlen = 1;
    s->smsgs[k].msg_hdr.msg_name = sa6;
    s->smsgs[k].msg_hdr.msg_namelen = alen;
    k++;
  }
  return k;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 2) {
    napi_throw_type_error(env, NULL, "udp-batch: send() takes 2 arguments");
    return NULL;
  }
  sock_t *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  int32_t count;
  if (napi_get_value_int32(env, argv[1], &count) != napi_ok || count < 0 || count > s->out_slots) {
    napi_throw_range_error(env, NULL, "udp-batch: bad count");
    return NULL;
  }
  int sent = 0;
  if (!s->closing && count > 0) {
    int k = prepare(s, 0, count);
    int i = 0, waits = 0;
    while (i < k) {
      int r = sendmmsg(s->fd, s->smsgs + i, (unsigned)(k - i), MSG_DONTWAIT);
      if (r > 0) {
        i += r;
        sent += r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && waits < 4) {
        /* Send buffer full: wait briefly for room rather than drop the rest of the batch. */
        struct pollfd p = {.fd = s->fd, .events = POLLOUT, .revents = 0};
        poll(&p, 1, 5);
        waits++;
        continue;
      }
      /* This datagram cannot be sent (unreachable, too big, or the buffer stays full): skip it. */
      i++;
    }
  }
  napi_value out;
  CHECK(env, napi_create_int32(env, sent, &out));
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1) {
    napi_throw_type_error(env, NULL, "udp-batch: close() takes 1 argument");
    return NULL;
  }
  sock_t *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  start_close(s);
  return NULL;
}

static napi_value js_advise_huge(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double advised = 0;
  void *data = NULL;
  size_t len = 0;
  if (argc == 1 && essaim_bytes_arg(env, argv[0], &data, &len) && data != NULL) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)data + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)data + len) & ~(huge - 1);
    if (end > start && madvise((void *)start, end - start, MADV_HUGEPAGE) == 0) advised = (double)(end - start);
#endif
  }
  napi_value out;
  napi_create_double(env, advised, &out);
  return out;
}

void http_front_define(napi_env env, napi_value exports);

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"adviseHuge", NULL, js_advise_huge, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  http_front_define(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
