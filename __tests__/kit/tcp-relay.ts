/**
 * A TCP relay on a free loopback port to a target port, which a test can cut (every connection
 * through it drops, new ones are refused) and restore: one client loses Redis while others keep it.
 * It can also swallow what the target answers, so a command runs but its answer never arrives.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpRelay {
  port: number;
  url: string;
  cut(): void;
  restore(): void;
  /** Drops what the target sends until `cut()` or `restore()`. */
  swallowReplies(): void;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let open = true;
  let swallow = false;
  const server = net.createServer((inbound) => {
    if (!open) {
      inbound.destroy();
      return;
    }
    const outbound = net.connect(targetPort, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    inbound.on('data', (data: Buffer) => outbound.write(data));
    outbound.on('data', (data: Buffer) => swallow || inbound.write(data));
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      swallow = false;
      dropAll();
    },
    restore() {
      open = true;
      swallow = false;
    },
    swallowReplies() {
      swallow = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
