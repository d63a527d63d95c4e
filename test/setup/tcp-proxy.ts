import { createServer, connect, type Socket } from 'node:net';

export interface Proxy {
  port: number;
  /** Connections seen so far. */
  connections: number;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a test server. The first `cutConnections` connections are cut
 * (both sides destroyed) once `cutAfterBytes` have flowed from the server: a network failure in the
 * middle of a download.
 */
export function startProxy(
  targetPort: number,
  options: { cutAfterBytes?: number; cutConnections?: number } = {},
): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const proxy: Proxy = { port: 0, connections: 0, close: async () => undefined };
  const server = createServer((client) => {
    const n = proxy.connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let fromServer = 0;
    const cut = options.cutAfterBytes !== undefined && n < (options.cutConnections ?? 1);
    upstream.on('data', (chunk: Buffer) => {
      fromServer += chunk.length;
      if (cut && fromServer > options.cutAfterBytes!) {
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
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
