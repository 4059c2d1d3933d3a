/*
 * Socket calls Node does not expose: the original destination of a REDIRECTed
 * connection, dup() for handing an accepted fd to a worker thread, and the
 * socket options of the reuseport and TPROXY accept modes (and, in busy_poll.c,
 * busy polling of a worker's loop). Errors are thrown
 * with the errno name as `code` so callers can match them across threads.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <linux/netfilter_ipv4.h>
#include "busy_poll.h"

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s failed: %s", syscall, strerror(err));
  napi_throw_error(env, err == EINVAL ? "EINVAL" : err == ENOENT ? "ENOENT" : err == EBADF ? "EBADF"
                   : err == ENOPROTOOPT ? "ENOPROTOOPT" : err == EPERM ? "EPERM"
                   : err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : "ESYSCALL", msg);
  return NULL;
}

static int arg_int(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "EARGS", "expected an integer file descriptor");
    return -1;
  }
  for (size_t i = 0; i < want; i++) {
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) {
      napi_throw_type_error(env, "EARGS", "expected integer arguments");
      return -1;
    }
  }
  return 0;
}

static napi_value make_address(napi_env env, const char *ip, int port, int family) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "address", v);
  napi_create_int32(env, port, &v);
  napi_set_named_property(env, obj, "port", v);
  napi_create_int32(env, family, &v);
  napi_set_named_property(env, obj, "family", v);
  return obj;
}

/* originalDst(fd) -> { address, port, family } | null: SO_ORIGINAL_DST, then the IPv6 variant. */
static napi_value original_dst(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int(env, info, 1, &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  char ip[INET6_ADDRSTRLEN];
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len) == 0 && ss.ss_family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    return make_address(env, ip, ntohs(sin->sin_port), 4);
  }
  len = sizeof ss;
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len) == 0 && ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
    return make_address(env, ip, ntohs(sin6->sin6_port), 6);
  }
  /* No NAT entry (not REDIRECTed: TPROXY, a gateway): null, not an error. A thrown error
   * would capture a stack for every such connection only to be caught. */
  napi_value none;
  napi_get_null(env, &none);
  return none;
}

/* localAddress(fd): what TPROXY mode treats as the original destination. */
static napi_value local_address(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int(env, info, 1, &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, "getsockname", errno);
  char ip[INET6_ADDRSTRLEN];
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    return make_address(env, ip, ntohs(sin->sin_port), 4);
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
  inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
  return make_address(env, ip, ntohs(sin6->sin6_port), 6);
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int(env, info, 1, &fd)) return NULL;
  /* keep close-on-exec: a child process must never inherit a client connection */
  int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (nfd < 0) return throw_errno(env, "dup", errno);
  napi_value out;
  napi_create_int32(env, nfd, &out);
  return out;
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int(env, info, 1, &fd)) return NULL;
  if (close(fd) != 0) return throw_errno(env, "close", errno);
  return NULL;
}

static napi_value set_flag(napi_env env, int fd, int level, int name, const char *what) {
  int one = 1;
  if (setsockopt(fd, level, name, &one, sizeof one) != 0) return throw_errno(env, what, errno);
  return NULL;
}

static napi_value set_reuse_port(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int(env, info, 1, &fd)) return NULL;
  return set_flag(env, fd, SOL_SOCKET, SO_REUSEPORT, "setsockopt(SO_REUSEPORT)");
}

/* setTransparent(fd, family): IP_TRANSPARENT / IPV6_TRANSPARENT for TPROXY listeners. */
static napi_value set_transparent(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (arg_int(env, info, 2, a)) return NULL;
  if (a[1] == 6) return set_flag(env, a[0], SOL_IPV6, IPV6_TRANSPARENT, "setsockopt(IPV6_TRANSPARENT)");
  return set_flag(env, a[0], SOL_IP, IP_TRANSPARENT, "setsockopt(IP_TRANSPARENT)");
}

/*
 * listenSocket(address, port, reusePort, transparent, backlog) -> fd of a bound,
 * listening, non-blocking TCP socket. Node 20 has no `reusePort` listen option and
 * no IP_TRANSPARENT at all, and both must be set before bind(); the fd is then
 * given to net.Server#listen({ fd }).
 */
static napi_value listen_socket(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, "EARGS", "listenSocket(address, port, reusePort, transparent, backlog)");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1];
  size_t hlen;
  int32_t port, backlog;
  bool reuse, transparent;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hlen) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok ||
      napi_get_value_bool(env, argv[2], &reuse) != napi_ok ||
      napi_get_value_bool(env, argv[3], &transparent) != napi_ok ||
      napi_get_value_int32(env, argv[4], &backlog) != napi_ok) {
    napi_throw_type_error(env, "EARGS", "listenSocket(address: string, port: number, reusePort: boolean, transparent: boolean, backlog: number)");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t slen;
  memset(&ss, 0, sizeof ss);
  int family;
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET; sin->sin_port = htons(port); slen = sizeof *sin; family = AF_INET;
  } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6; sin6->sin6_port = htons(port); slen = sizeof *sin6; family = AF_INET6;
  } else {
    napi_throw_type_error(env, "EINVAL", "listenSocket: address must be an IPv4 or IPv6 literal");
    return NULL;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  const char *failed = NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) failed = "setsockopt(SO_REUSEADDR)";
  else if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) failed = "setsockopt(SO_REUSEPORT)";
  else if (transparent && family == AF_INET && setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0) failed = "setsockopt(IP_TRANSPARENT)";
  else if (transparent && family == AF_INET6 && setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one) != 0) failed = "setsockopt(IPV6_TRANSPARENT)";
  else if (bind(fd, (struct sockaddr *)&ss, slen) != 0) failed = "bind";
  else if (listen(fd, backlog) != 0) failed = "listen";
  if (failed) {
    int err = errno;
    close(fd);
    return throw_errno(env, failed, err);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/*
 * raiseFdLimit() -> the new soft RLIMIT_NOFILE. Every proxied connection holds at least two
 * descriptors (three during a hand-off), so a 1024 soft limit caps a proxy at a few hundred
 * connections; the soft limit is raised to the hard one, as Envoy deployments do.
 */
static napi_value raise_fd_limit(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return throw_errno(env, "getrlimit", errno);
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return throw_errno(env, "setrlimit", errno);
  }
  napi_value out;
  napi_create_double(env, (double)rl.rlim_cur, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"originalDst", NULL, original_dst, NULL, NULL, NULL, napi_default, NULL},
    {"localAddress", NULL, local_address, NULL, NULL, NULL, napi_default, NULL},
    {"dup", NULL, dup_fd, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
    {"setReusePort", NULL, set_reuse_port, NULL, NULL, NULL, napi_default, NULL},
    {"setTransparent", NULL, set_transparent, NULL, NULL, NULL, napi_default, NULL},
    {"raiseFdLimit", NULL, raise_fd_limit, NULL, NULL, NULL, napi_default, NULL},
    {"listenSocket", NULL, listen_socket, NULL, NULL, NULL, napi_default, NULL},
    {"busyPoll", NULL, busy_poll_set, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
