import { createServer, connect, type Socket } from 'node:net';

export interface Proxy {
  port: number;
  /** Connections seen so far. */
  connections: number;
  /**
   * From now on nothing is passed on, either way, on any connection, open or new, and nothing is
   * closed: a server that stopped answering (frozen, or behind a dead network path).
   */
  stall(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a test server. The first `cutConnections` connections are cut
 * (both sides destroyed) once `cutAfterBytes` have flowed from the server: a network failure in the
 * middle of a download. `stall()` stops it passing anything on.
 */
export function startProxy(
  targetPort: number,
  options: { cutAfterBytes?: number; cutConnections?: number } = {},
): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let stalled = false;
  const proxy: Proxy = {
    port: 0,
    connections: 0,
    stall: () => (stalled = true),
    close: async () => undefined,
  };
  const server = createServer((client) => {
    const n = proxy.connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let fromServer = 0;
    const cut = options.cutAfterBytes !== undefined && n < (options.cutConnections ?? 1);
    upstream.on('data', (chunk: Buffer) => {
      if (stalled) return;
      fromServer += chunk.length;
      if (cut && fromServer > options.cutAfterBytes!) {
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (!stalled) upstream.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      proxy.port = (server.address() as { port: number }).port;
      proxy.close = () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        });
      resolve(proxy);
    });
  });
}
