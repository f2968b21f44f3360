import { createServer } from 'node:net';

/** Ports this process handed out already: the kernel may give a just-closed port to the next `listen(0)`. */
const handedOut = new Set<number>();

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A TCP port free right now on 127.0.0.1, never one this process handed out before. It is free only until someone
 * else takes it (an outgoing connection's ephemeral port, another process): Stack.spawn starts again on EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probe();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
