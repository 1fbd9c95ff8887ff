/*
 * kiln_peercred: the credentials of the process at the other end of a Unix
 * socket, as the kernel recorded them when it connected (SO_PEERCRED): pid,
 * uid and gid. Node.js has no API for them, and kilnd must never take a
 * caller's identity from what the caller says (docs/kilnd.md).
 *
 *   peerCredentials(fd) -> { pid, uid, gid }
 *
 * Throws when the descriptor is not a connected Unix socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  struct ucred cred;
  socklen_t length = sizeof cred;
  napi_value result, pid, uid, gid;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "peerCredentials(fd): fd must be a file descriptor number");
    return NULL;
  }
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0 || length != sizeof cred) {
    napi_throw_error(env, "E_PEERCRED", strerror(errno));
    return NULL;
  }
  napi_create_object(env, &result);
  napi_create_int32(env, cred.pid, &pid);
  napi_create_uint32(env, cred.uid, &uid);
  napi_create_uint32(env, cred.gid, &gid);
  napi_set_named_property(env, result, "pid", pid);
  napi_set_named_property(env, result, "uid", uid);
  napi_set_named_property(env, result, "gid", gid);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
  napi_set_named_property(env, exports, "peerCredentials", fn);
  return exports;
}
