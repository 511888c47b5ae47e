/**
 * Free loopback ports for end-to-end tests. A port is found by binding port 0, reading what the
 * kernel chose and closing the socket again; the caller then hands the number to a child process.
 * There is a small window in which another process could take it, so every number handed out by
 * this module is remembered and never handed out twice by the same test process.
 */
import net from 'node:net';
import dgram from 'node:dgram';

const handedOut = new Set<number>();

function tcpProbe(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(null));
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr !== null ? addr.port : null;
      srv.close(() => resolve(p));
    });
  });
}

function udpProbe(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.unref();
    sock.once('error', () => {
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      resolve(null);
    });
    sock.bind({ port, address: host, exclusive: true }, () => {
      const p = sock.address().port;
      sock.close(() => resolve(p));
    });
  });
}

/** A TCP port on `host` (default 127.0.0.1) that nothing listens on right now. */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tcpProbe(0, host);
    if (p !== null && !handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
  throw new Error('freeTcpPort: no free port found in 50 attempts');
}

/** A UDP port on `host` (default 127.0.0.1) that nothing is bound to right now. */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await udpProbe(0, host);
    if (p !== null && !handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
  throw new Error('freeUdpPort: no free port found in 50 attempts');
}

/** A port number free for both TCP and UDP (e.g. a BitTorrent client's listen port, or opentracker's -p/-P). */
export async function freeTcpUdpPort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tcpProbe(0, host);
    if (p === null || handedOut.has(p)) continue;
    if ((await udpProbe(p, host)) === p) {
      handedOut.add(p);
      return p;
    }
  }
  throw new Error('freeTcpUdpPort: no port free for both TCP and UDP found in 50 attempts');
}
