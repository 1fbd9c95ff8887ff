/**
 * Who is at the other end of a Unix socket, from the kernel: SO_PEERCRED,
 * read by Kiln's own small N-API addon (native/peercred.c, built by `npm ci`
 * from binding.gyp). No maintained npm package does this: the one that
 * exists calls getsockopt through an FFI package that no longer builds on
 * current Node.js. The credentials are those of the process when it
 * connected; kilnd never takes an identity from what a client says.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { KilnError } from '../errors/index.js';
import { kilnPath } from '../util/kilnRoot.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

interface Addon {
  peerCredentials(fd: number): PeerCredentials;
}

let addon: Addon | undefined;

/** The credentials of the peer of a connected Unix socket. */
export function peerCredentials(socket: Socket): PeerCredentials {
  addon ??= createRequire(kilnPath('package.json'))(kilnPath('build', 'Release', 'kiln_peercred.node')) as Addon;
  // Node keeps the descriptor on the socket's handle; there is no public accessor.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new KilnError('E_IO', 'cannot read the peer credentials of a socket without a descriptor', {
      hint: 'kilnd reads them on a Unix socket it accepted',
    });
  return addon.peerCredentials(fd);
}
