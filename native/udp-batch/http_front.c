/*
 * Native TCP front for Essaim's HTTP tracker (Linux). The addon owns the listening socket and every
 * connection: they sit in an epoll set of its own, and that one epoll descriptor is polled on the
 * main libuv loop. When it is ready, the addon accepts, reads each ready connection straight into
 * memory shared with JavaScript, and calls JavaScript once for the whole batch. JavaScript frames
 * and answers the requests (all HTTP semantics live there), writes the answers into a second shared
 * area and calls send(), which writes each one to its connection. Node's streams cost, per request,
 * a read callback, a Buffer, a write request and a timer refresh; here those costs are per batch.
 *
 * Connections are named by ids: (generation << 20) | slot, with 11 bits of generation, and freed
 * slots are reused oldest first, so an id of a closed connection comes back only after millions
 * of connections (JavaScript also drops a late answer once the close was reported). A connection whose answers the kernel cannot take at once
 * keeps the rest in a buffer of its own and is written when writable (and is not read from while
 * that buffer is large). Idle connections are closed after idle_ms (0: never).
 *
 * Shared layouts (little-endian int32 words):
 *   input meta, 8 words per entry: [0] connection id  [1] offset in the input area  [2] length
 *            (-1: the connection was closed by the peer, an error or the idle timeout)
 *            [3] family (4|6)  bytes 16..31: the peer's address (IPv4-mapped IPv6 given as IPv4)
 *   output meta, 4 words per entry: [0] connection id  [1] offset in the output area  [2] length
 *            [3] flags (1: close the connection once this is written)
 *
 * JavaScript API:
 *   httpOpen(host, port, v6, inBuf, inMeta, outBuf, outMeta, inSlots, outSlots, maxConns, idleMs,
 *            onBatch) -> [handle, boundPort]; onBatch(count, accepted) gets the number of input
 *            entries and of connections accepted since the last call.
 *   httpSend(handle, count): writes output entries [0, count).
 *   httpSendOne(handle, id, bytes, close) -> false when the connection is gone.
 *   httpCloseConn(handle, id): closes a connection at once (not reported back).
 *   httpOpenConnections(handle) -> connections open now.
 *   httpClose(handle): closes the listener and every connection.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"

#define IN_WORDS 8
#define OUT_WORDS 4
#define MAX_EVENTS 256
#define MAX_ROUNDS 8
#define READ_MAX 16384
#define MIN_ROOM 1024
#define PAUSE_READ_BYTES (256 * 1024)
#define MAX_PENDING_BYTES (8 * 1024 * 1024)
#define ACCEPT_BURST 128
#define IDX_BITS 20
#define IDX_MASK ((1u << IDX_BITS) - 1)
#define GEN_MASK 0x7ffu
#define LISTEN_TAG UINT64_MAX

typedef struct {
  int fd; /* -1: free */
  uint32_t gen;
  int32_t next_free;
  uint32_t events;
  uint64_t last;
  int32_t family;
  uint8_t addr[16];
  int close_after;
  uint8_t *pend;
  size_t pend_off, pend_len, pend_cap;
} conn_t;

typedef struct {
  napi_env env;
  int lfd, ep;
  int closing, open_handles, finalized, listen_paused;
  uv_poll_t poll;
  uv_timer_t timer;
  napi_ref cb;
  napi_ref bufs[4];
  napi_async_context actx;
  uint8_t *in;
  size_t in_size;
  int32_t *in_meta;
  int in_slots;
  uint8_t *out;
  size_t out_size;
  int32_t *out_meta;
  int out_slots;
  conn_t *conns;
  int cap, high, open_count;
  int32_t free_head, free_tail; /* free slots, oldest first */
  uint64_t idle_ms;
  int32_t *closed;
  int nclosed, closed_cap;
  int32_t accepted;
  int in_count;
  size_t in_off;
  int in_full;
  struct epoll_event evs[MAX_EVENTS];
} front_t;

#define CHECK(env, call)                                    \
  do {                                                      \
    if ((call) != napi_ok) {                                \
      napi_throw_error((env), NULL, "http-front: " #call);  \
      return NULL;                                          \
    }                                                       \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) { return essaim_throw_errno(env, what, err, "EHTTPFRONT"); }

static int32_t conn_id(front_t *f, conn_t *c) { return (int32_t)(((c->gen & GEN_MASK) << IDX_BITS) | (uint32_t)(c - f->conns)); }

static conn_t *lookup(front_t *f, int32_t id) {
  if (id < 0) return NULL;
  uint32_t idx = (uint32_t)id & IDX_MASK;
  if (idx >= (uint32_t)f->cap) return NULL;
  conn_t *c = &f->conns[idx];
  if (c->fd < 0 || (c->gen & GEN_MASK) != ((uint32_t)id >> IDX_BITS)) return NULL;
  return c;
}

static void remember_closed(front_t *f, int32_t id) {
  if (f->nclosed == f->closed_cap) {
    int ncap = f->closed_cap ? f->closed_cap * 2 : 64;
    int32_t *n = realloc(f->closed, (size_t)ncap * sizeof *n);
    if (n == NULL) return; /* JavaScript keeps a stale entry for this id until the id comes back */
    f->closed = n;
    f->closed_cap = ncap;
  }
  f->closed[f->nclosed++] = id;
}

/* Closes a connection; report: tell JavaScript in the next batch (it did not ask for this). */
static void close_conn(front_t *f, conn_t *c, int report) {
  if (c->fd < 0) return;
  if (report) remember_closed(f, conn_id(f, c));
  close(c->fd); /* also leaves the epoll set: the descriptor is not shared */
  c->fd = -1;
  free(c->pend);
  c->pend = NULL;
  c->pend_off = c->pend_len = c->pend_cap = 0;
  c->close_after = 0;
  c->gen = (c->gen + 1) & GEN_MASK;
  if (c->gen == 0) c->gen = 1;
  /* At the tail: a slot is reused only after every other free one, so that an id comes back
     (its generation wraps) only after about 2047 times the free slots' count of connections. */
  int32_t idx = (int32_t)(c - f->conns);
  c->next_free = -1;
  if (f->free_tail >= 0) f->conns[f->free_tail].next_free = idx;
  else f->free_head = idx;
  f->free_tail = idx;
  f->open_count--;
}

static void set_interest(front_t *f, conn_t *c, uint32_t events) {
  if (c->events == events) return;
  struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)(c - f->conns)};
  if (epoll_ctl(f->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->events = events;
}

/* Keeps bytes the kernel did not take. 0 when the connection had to be closed. */
static int keep_pending(front_t *f, conn_t *c, const uint8_t *data, size_t len) {
  if (c->pend_off > 0 && c->pend_off == c->pend_len) c->pend_off = c->pend_len = 0;
  if (c->pend_len - c->pend_off + len > MAX_PENDING_BYTES) {
    close_conn(f, c, 1); /* a client that sends but never reads */
    return 0;
  }
  if (c->pend_len + len > c->pend_cap) {
    if (c->pend_off > 0) {
      memmove(c->pend, c->pend + c->pend_off, c->pend_len - c->pend_off);
      c->pend_len -= c->pend_off;
      c->pend_off = 0;
    }
    if (c->pend_len + len > c->pend_cap) {
      size_t ncap = c->pend_cap ? c->pend_cap : 4096;
      while (ncap < c->pend_len + len) ncap *= 2;
      uint8_t *n = realloc(c->pend, ncap);
      if (n == NULL) {
        close_conn(f, c, 1);
        return 0;
      }
      c->pend = n;
      c->pend_cap = ncap;
    }
  }
  memcpy(c->pend + c->pend_len, data, len);
  c->pend_len += len;
  size_t waiting = c->pend_len - c->pend_off;
  set_interest(f, c, EPOLLOUT | (waiting > PAUSE_READ_BYTES ? 0 : EPOLLIN));
  return 1;
}

static void conn_write(front_t *f, conn_t *c, const uint8_t *data, size_t len, int close_after) {
  if (c->fd < 0) return;
  c->last = uv_now(uv_handle_get_loop((uv_handle_t *)&f->poll));
  if (c->pend_len > c->pend_off) {
    if (keep_pending(f, c, data, len) && close_after) c->close_after = 1;
    return;
  }
  ssize_t w;
  do w = write(c->fd, data, len);
  while (w < 0 && errno == EINTR);
  if (w == (ssize_t)len) {
    if (close_after) close_conn(f, c, 0);
    return;
  }
  if (w < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      close_conn(f, c, 1);
      return;
    }
    w = 0;
  }
  if (keep_pending(f, c, data + w, len - (size_t)w) && close_after) c->close_after = 1;
}

static void flush_pending(front_t *f, conn_t *c) {
  while (c->pend_len > c->pend_off) {
    ssize_t w = write(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) close_conn(f, c, 1);
      return;
    }
    c->pend_off += (size_t)w;
  }
  c->pend_off = c->pend_len = 0;
  if (c->pend_cap > 65536) {
    free(c->pend);
    c->pend = NULL;
    c->pend_cap = 0;
  }
  if (c->close_after) {
    close_conn(f, c, 0);
    return;
  }
  set_interest(f, c, EPOLLIN);
}

static void do_accept(front_t *f, uint64_t now) {
  for (int i = 0; i < ACCEPT_BURST; i++) {
    struct sockaddr_in6 sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(f->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* Out of descriptors: stop listening until the next timer tick rather than spin. */
        epoll_ctl(f->ep, EPOLL_CTL_DEL, f->lfd, NULL);
        f->listen_paused = 1;
      }
      return;
    }
    if (f->free_head < 0) {
      close(fd); /* at the connection limit */
      continue;
    }
    conn_t *c = &f->conns[f->free_head];
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(c->addr, 0, 16);
    c->family = 0;
    const struct sockaddr *s = (const struct sockaddr *)&sa;
    if (s->sa_family == AF_INET) {
      c->family = 4;
      memcpy(c->addr, &((const struct sockaddr_in *)s)->sin_addr, 4);
    } else if (s->sa_family == AF_INET6) {
      const uint8_t *a = (const uint8_t *)&sa.sin6_addr;
      static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      if (memcmp(a, mapped, 12) == 0) {
        c->family = 4;
        memcpy(c->addr, a + 12, 4);
      } else {
        c->family = 6;
        memcpy(c->addr, a, 16);
      }
    }
    if (c->gen == 0) c->gen = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)f->free_head};
    if (epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      continue;
    }
    int idx = f->free_head;
    f->free_head = c->next_free;
    if (f->free_head < 0) f->free_tail = -1;
    c->fd = fd;
    c->events = EPOLLIN;
    c->last = now;
    c->close_after = 0;
    if (idx + 1 > f->high) f->high = idx + 1;
    f->open_count++;
    f->accepted++;
  }
}

static void do_read(front_t *f, conn_t *c, uint64_t now) {
  size_t room = f->in_size - f->in_off;
  if (room < MIN_ROOM || f->in_count >= f->in_slots) {
    f->in_full = 1; /* level-triggered: the rest is read after this batch */
    return;
  }
  size_t want = room < READ_MAX ? room : READ_MAX;
  ssize_t r;
  do r = read(c->fd, f->in + f->in_off, want);
  while (r < 0 && errno == EINTR);
  if (r > 0) {
    int32_t *m = f->in_meta + (size_t)f->in_count * IN_WORDS;
    m[0] = conn_id(f, c);
    m[1] = (int32_t)f->in_off;
    m[2] = (int32_t)r;
    m[3] = c->family;
    memcpy(m + 4, c->addr, 16);
    f->in_count++;
    f->in_off += ((size_t)r + 7) & ~(size_t)7;
    if (f->in_off > f->in_size) f->in_off = f->in_size;
    c->last = now;
    return;
  }
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  close_conn(f, c, 1); /* end of stream or a socket error */
}

static void process_out(front_t *f, int count) {
  for (int i = 0; i < count && !f->closing; i++) {
    const int32_t *m = f->out_meta + (size_t)i * OUT_WORDS;
    int32_t off = m[1], len = m[2];
    if (off < 0 || len < 0 || (size_t)off + (size_t)len > f->out_size) continue;
    conn_t *c = lookup(f, m[0]);
    if (c == NULL) continue;
    conn_write(f, c, f->out + off, (size_t)len, m[3] & 1);
  }
}

/* Calls JavaScript with what was read (and the connections closed since the last call). */
static void dispatch(front_t *f) {
  while (f->nclosed > 0 && f->in_count < f->in_slots) {
    int32_t *m = f->in_meta + (size_t)f->in_count * IN_WORDS;
    memset(m, 0, IN_WORDS * 4);
    m[0] = f->closed[--f->nclosed];
    m[2] = -1;
    f->in_count++;
  }
  if (f->in_count == 0 && f->accepted == 0) return;
  int count = f->in_count;
  int32_t accepted = f->accepted;
  napi_env env = f->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, args[2], result;
  if (napi_get_reference_value(env, f->cb, &cb) == napi_ok && napi_get_global(env, &global) == napi_ok &&
      napi_create_int32(env, count, &args[0]) == napi_ok && napi_create_int32(env, accepted, &args[1]) == napi_ok) {
    napi_status st = napi_make_callback(env, f->actx, global, cb, 2, args, &result);
    if (st == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
    }
  }
  napi_close_handle_scope(env, scope);
  f->in_count = 0;
  f->in_off = 0;
  f->in_full = 0;
  f->accepted = 0;
}

static void on_ready(uv_poll_t *h, int status, int events) {
  front_t *f = (front_t *)h->data;
  if (status < 0 || f->closing) return;
  uint64_t now = uv_now(uv_handle_get_loop((uv_handle_t *)h));
  for (int round = 0; round < MAX_ROUNDS && !f->closing; round++) {
    int n = epoll_wait(f->ep, f->evs, MAX_EVENTS, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (int i = 0; i < n && !f->closing; i++) {
      uint64_t tag = f->evs[i].data.u64;
      uint32_t ev = f->evs[i].events;
      if (tag == LISTEN_TAG) {
        do_accept(f, now);
        continue;
      }
      uint32_t idx = (uint32_t)tag;
      if (idx >= (uint32_t)f->cap) continue;
      conn_t *c = &f->conns[idx];
      if (c->fd < 0 || c->gen != (uint32_t)(tag >> 32)) continue; /* closed earlier in this round */
      if (ev & EPOLLOUT) flush_pending(f, c);
      if (c->fd >= 0 && (c->events & EPOLLIN) && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) do_read(f, c, now);
      else if (c->fd >= 0 && !(c->events & EPOLLIN) && (ev & (EPOLLHUP | EPOLLERR))) close_conn(f, c, 1);
    }
    if (!f->closing) dispatch(f);
    if (n < MAX_EVENTS && !f->in_full) break;
  }
}

static void on_timer(uv_timer_t *t) {
  front_t *f = (front_t *)t->data;
  if (f->closing) return;
  uint64_t now = uv_now(uv_handle_get_loop((uv_handle_t *)t));
  if (f->listen_paused) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LISTEN_TAG};
    if (epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &ev) == 0) f->listen_paused = 0;
  }
  if (f->idle_ms > 0) {
    for (int i = 0; i < f->high; i++) {
      conn_t *c = &f->conns[i];
      if (c->fd >= 0 && now - c->last >= f->idle_ms) close_conn(f, c, 1);
    }
  }
  if (f->nclosed > 0) dispatch(f);
}

static void free_front(front_t *f) {
  free(f->conns);
  free(f->closed);
  free(f);
}

static void on_handle_closed(uv_handle_t *h) {
  front_t *f = (front_t *)h->data;
  if (--f->open_handles > 0) return;
  napi_env env = f->env;
  napi_delete_reference(env, f->cb);
  for (int i = 0; i < 4; i++) napi_delete_reference(env, f->bufs[i]);
  napi_async_destroy(env, f->actx);
  if (f->finalized) free_front(f);
}

static void start_close(front_t *f) {
  if (f->closing) return;
  f->closing = 1;
  uv_poll_stop(&f->poll);
  uv_timer_stop(&f->timer);
  for (int i = 0; i < f->high; i++) {
    conn_t *c = &f->conns[i];
    if (c->fd >= 0) close_conn(f, c, 0);
  }
  if (f->lfd >= 0) close(f->lfd);
  f->lfd = -1;
  if (f->ep >= 0) close(f->ep);
  f->ep = -1;
  f->open_handles = 2;
  uv_close((uv_handle_t *)&f->poll, on_handle_closed);
  uv_close((uv_handle_t *)&f->timer, on_handle_closed);
}

static void on_finalize(napi_env env, void *data, void *hint) {
  front_t *f = (front_t *)data;
  f->finalized = 1;
  if (!f->closing) start_close(f);
  else if (f->open_handles == 0) free_front(f);
}

static front_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "http-front: not a front handle");
    return NULL;
  }
  return (front_t *)p;
}

/* The arguments of a call taking the front's handle first and n arguments in all; NULL (with a
   JavaScript exception pending) when they do not fit. */
static front_t *front_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != n) {
    napi_throw_type_error(env, NULL, "http-front: wrong number of arguments");
    return NULL;
  }
  return unwrap(env, argv[0]);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) {
    napi_throw_type_error(env, NULL, "http-front: httpOpen() takes 12 arguments");
    return NULL;
  }
  char host[64];
  size_t hl = 0;
  int32_t port, in_slots, out_slots, max_conns;
  double idle_ms;
  bool v6;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_bool(env, argv[2], &v6) != napi_ok ||
      napi_get_value_int32(env, argv[7], &in_slots) != napi_ok || napi_get_value_int32(env, argv[8], &out_slots) != napi_ok ||
      napi_get_value_int32(env, argv[9], &max_conns) != napi_ok || napi_get_value_double(env, argv[10], &idle_ms) != napi_ok) {
    napi_throw_type_error(env, NULL, "http-front: bad arguments to httpOpen()");
    return NULL;
  }
  napi_valuetype cbt;
  CHECK(env, napi_typeof(env, argv[11], &cbt));
  if (cbt != napi_function || port < 0 || port > 65535 || in_slots < 1 || in_slots > 65536 || out_slots < 1 ||
      out_slots > 65536 || max_conns < 1 || max_conns > (int32_t)IDX_MASK || !(idle_ms >= 0)) {
    napi_throw_range_error(env, NULL, "http-front: bad arguments to httpOpen()");
    return NULL;
  }
  void *bufs[4];
  size_t lens[4];
  for (int i = 0; i < 4; i++) {
    if (!essaim_bytes_arg(env, argv[3 + i], &bufs[i], &lens[i])) {
      napi_throw_type_error(env, NULL, "http-front: buffers must be ArrayBuffers or Uint8Arrays");
      return NULL;
    }
  }
  if (lens[0] < 4 * MIN_ROOM || lens[0] > (size_t)INT32_MAX || lens[1] < (size_t)in_slots * IN_WORDS * 4 ||
      lens[2] > (size_t)INT32_MAX || lens[3] < (size_t)out_slots * OUT_WORDS * 4 || ((uintptr_t)bufs[1] & 3) ||
      ((uintptr_t)bufs[3] & 3)) {
    napi_throw_range_error(env, NULL, "http-front: buffers too small or misaligned");
    return NULL;
  }

  struct sockaddr_in6 addr;
  socklen_t addr_len;
  if (!essaim_sockaddr(host, port, v6, &addr, &addr_len))
    return throw_errno(env, v6 ? "http-front: not an IPv6 address" : "http-front: not an IPv4 address", EINVAL);
  int lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) return throw_errno(env, "http-front: socket", errno);
  int one = 1, zero = 0;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* "::" takes IPv4 too, as node's net does. */
  if (v6) setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  int rc = bind(lfd, (struct sockaddr *)&addr, addr_len);
  if (rc != 0 || listen(lfd, 1024) != 0) {
    int e = errno;
    close(lfd);
    return throw_errno(env, rc != 0 ? "http-front: bind" : "http-front: listen", e);
  }
  struct sockaddr_in6 bound;
  socklen_t bl = sizeof bound;
  memset(&bound, 0, sizeof bound);
  getsockname(lfd, (struct sockaddr *)&bound, &bl);
  int bound_port = ntohs(v6 ? bound.sin6_port : ((struct sockaddr_in *)&bound)->sin_port);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    int e = errno;
    close(lfd);
    return throw_errno(env, "http-front: epoll_create1", e);
  }
  struct epoll_event lev = {.events = EPOLLIN, .data.u64 = LISTEN_TAG};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);

  front_t *f = calloc(1, sizeof *f);
  conn_t *conns = calloc((size_t)max_conns, sizeof *conns);
  if (f == NULL || conns == NULL) {
    free(f);
    free(conns);
    close(lfd);
    close(ep);
    return throw_errno(env, "http-front: calloc", ENOMEM);
  }
  f->env = env;
  f->lfd = lfd;
  f->ep = ep;
  f->in = bufs[0];
  f->in_size = lens[0];
  f->in_meta = bufs[1];
  f->in_slots = in_slots;
  f->out = bufs[2];
  f->out_size = lens[2];
  f->out_meta = bufs[3];
  f->out_slots = out_slots;
  f->conns = conns;
  f->cap = max_conns;
  f->idle_ms = (uint64_t)idle_ms;
  for (int i = 0; i < max_conns; i++) {
    conns[i].fd = -1;
    conns[i].gen = 1;
    conns[i].next_free = i + 1 < max_conns ? i + 1 : -1;
  }
  f->free_head = 0;
  f->free_tail = max_conns - 1;

  napi_value name;
  if (napi_create_reference(env, argv[11], 1, &f->cb) != napi_ok ||
      napi_create_string_utf8(env, "essaim:http-front", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &f->actx) != napi_ok) {
    close(lfd);
    close(ep);
    free_front(f);
    napi_throw_error(env, NULL, "http-front: napi setup failed");
    return NULL;
  }
  for (int i = 0; i < 4; i++) napi_create_reference(env, argv[3 + i], 1, &f->bufs[i]);

  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &f->poll, ep);
  f->poll.data = f;
  uv_poll_start(&f->poll, UV_READABLE, on_ready);
  uv_timer_init(loop, &f->timer);
  f->timer.data = f;
  uint64_t tick = f->idle_ms > 0 && f->idle_ms < 2000 ? (f->idle_ms / 2 > 10 ? f->idle_ms / 2 : 10) : 1000;
  uv_timer_start(&f->timer, on_timer, tick, tick);
  uv_unref((uv_handle_t *)&f->timer);

  napi_value handle, portv, result;
  CHECK(env, napi_create_external(env, f, on_finalize, NULL, &handle));
  CHECK(env, napi_create_int32(env, bound_port, &portv));
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  CHECK(env, napi_set_element(env, result, 0, handle));
  CHECK(env, napi_set_element(env, result, 1, portv));
  return result;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  front_t *f = front_args(env, info, 2, argv);
  if (f == NULL) return NULL;
  int32_t count;
  if (napi_get_value_int32(env, argv[1], &count) != napi_ok || count < 0 || count > f->out_slots) {
    napi_throw_range_error(env, NULL, "http-front: bad count");
    return NULL;
  }
  if (!f->closing) process_out(f, count);
  return NULL;
}

static napi_value js_send_one(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  front_t *f = front_args(env, info, 4, argv);
  if (f == NULL) return NULL;
  int32_t id;
  bool close_after;
  void *data;
  size_t len;
  if (napi_get_value_int32(env, argv[1], &id) != napi_ok || !essaim_bytes_arg(env, argv[2], &data, &len) ||
      napi_get_value_bool(env, argv[3], &close_after) != napi_ok) {
    napi_throw_type_error(env, NULL, "http-front: bad arguments to httpSendOne()");
    return NULL;
  }
  conn_t *c = f->closing ? NULL : lookup(f, id);
  if (c != NULL) conn_write(f, c, data, len, close_after);
  napi_value out;
  CHECK(env, napi_get_boolean(env, c != NULL, &out));
  return out;
}

static napi_value js_close_conn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  front_t *f = front_args(env, info, 2, argv);
  if (f == NULL) return NULL;
  int32_t id;
  if (napi_get_value_int32(env, argv[1], &id) != napi_ok) {
    napi_throw_type_error(env, NULL, "http-front: bad connection id");
    return NULL;
  }
  conn_t *c = f->closing ? NULL : lookup(f, id);
  if (c != NULL) close_conn(f, c, 0);
  return NULL;
}

static napi_value js_open_connections(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  front_t *f = front_args(env, info, 1, argv);
  if (f == NULL) return NULL;
  napi_value out;
  CHECK(env, napi_create_int32(env, f->closing ? 0 : f->open_count, &out));
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  front_t *f = front_args(env, info, 1, argv);
  if (f == NULL) return NULL;
  start_close(f);
  return NULL;
}

void http_front_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"httpOpen", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"httpSend", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"httpSendOne", NULL, js_send_one, NULL, NULL, NULL, napi_default, NULL},
      {"httpCloseConn", NULL, js_close_conn, NULL, NULL, NULL, napi_default, NULL},
      {"httpOpenConnections", NULL, js_open_connections, NULL, NULL, NULL, napi_default, NULL},
      {"httpClose", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
