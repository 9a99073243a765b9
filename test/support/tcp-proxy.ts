/**
 * A TCP proxy on 127.0.0.1 for tests that need to drop live connections
 * (e.g. between a client and the server) while new connections keep working.
 */
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** URL through the proxy, e.g. url("/v1") -> "http://127.0.0.1:PORT/v1" */
  url: (path?: string) => string;
  /** destroys every current client+target socket pair; the proxy keeps accepting */
  cutAll(): void;
  /**
   * stops passing the server's bytes to the current clients, which stay connected (their own
   * bytes still reach the server); new connections are not affected
   */
  freezeAll(): void;
  /** number of live client+target pairs */
  connections(): number;
  close(): Promise<void>;
}

type Pair = readonly [client: Socket, target: Socket];

export function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const pairs = new Set<Pair>();

  const cut = (pair: Pair) => {
    pairs.delete(pair);
    // Plain destroy (FIN, not RST) so bytes already forwarded still reach the client.
    for (const socket of pair) socket.destroy();
  };

  const server = createServer((client) => {
    const target = connect(targetPort, targetHost);
    const pair: Pair = [client, target];
    pairs.add(pair);
    client.setNoDelay(true);
    target.setNoDelay(true);
    client.pipe(target);
    target.pipe(client);
    // Either side going away (or failing) takes the other side with it.
    for (const socket of pair) {
      socket.on("close", () => cut(pair));
      socket.on("error", () => cut(pair));
    }
  });

  const cutAll = () => {
    for (const pair of [...pairs]) cut(pair);
  };

  const freezeAll = () => {
    for (const [client, target] of pairs) {
      target.unpipe(client);
      target.pause();
    }
  };

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        url: (path = "") => `http://127.0.0.1:${port}${path}`,
        cutAll,
        freezeAll,
        connections: () => pairs.size,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            cutAll();
          }),
      });
    });
  });
}
