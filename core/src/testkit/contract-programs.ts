import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ContractTimeoutError } from './errors.js';

/**
 * The program the executor-manager contract asks a manager to start instead of a real executor
 * agent. It needs nothing but Node: it reads the miner address and token the way the agent does
 * (argv and the `MINER_ADDRESS` / `EXECUTOR_TOKEN` environment), connects back to the address, says
 * who it is, and then behaves as the mode says:
 *   hold  — spawns a child that connects too (to catch leftovers after `kill`), then runs forever;
 *   exit  — exits with code 7 right after connecting;
 *   child — (the child of `hold`) connects and runs forever.
 * The connection stays open while the process lives, so the suite sees a process die as a
 * closed socket, wherever the manager ran it.
 */
export const CONTRACT_PROGRAM = String.raw`
const net = require('node:net');
const { spawn } = require('node:child_process');
const CHILD = "const net=require('node:net');const [a,t]=process.argv.slice(1);const u=new URL(a);const s=net.connect(Number(u.port),u.hostname,()=>s.write(JSON.stringify({token:t,mode:'child',pid:process.pid,env:{token:null,minerAddress:null}})+'\\n'));s.on('error',()=>process.exit(1));s.on('close',()=>process.exit(0));setInterval(()=>{},1<<30);";
const [minerAddress, token, mode] = process.argv.slice(1);
const url = new URL(minerAddress);
const socket = net.connect(Number(url.port), url.hostname, () => {
  const env = { token: process.env.EXECUTOR_TOKEN ?? null, minerAddress: process.env.MINER_ADDRESS ?? null };
  socket.write(JSON.stringify({ token, mode, pid: process.pid, env }) + '\n');
  if (mode === 'exit') setTimeout(() => process.exit(7), 100);
  if (mode === 'hold') spawn(process.execPath, ['-e', CHILD, minerAddress, token], { stdio: 'ignore' });
});
socket.on('error', () => process.exit(1));
// The suite closing its listener ends any program a broken manager failed to kill.
socket.on('close', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

/** What one contract program said when it connected. */
export interface ProgramHello {
  readonly token: string;
  readonly mode: 'hold' | 'exit' | 'child';
  readonly pid: number;
  readonly env: { readonly token: string | null; readonly minerAddress: string | null };
}

export interface ProgramConnection {
  readonly hello: ProgramHello;
  /** Resolves when the program's connection closes (the process died). */
  readonly closed: Promise<void>;
  readonly isClosed: () => boolean;
}

/**
 * A stand-in for the miner's executor endpoint: a TCP server the contract programs connect to.
 * Connections are grouped by token.
 */
export class ProgramListener {
  private server: Server | null = null;
  private readonly connections: ProgramConnection[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly waiters: (() => void)[] = [];

  async listen(host: string): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    let closedFlag = false;
    const closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        closedFlag = true;
        this.sockets.delete(socket);
        resolve();
      }),
    );
    socket.on('error', () => {});
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      socket.off('data', onData);
      try {
        const hello = JSON.parse(buffer.slice(0, newline)) as ProgramHello;
        this.connections.push({ hello, closed, isClosed: () => closedFlag });
        for (const wake of this.waiters.splice(0)) wake();
      } catch {
        socket.destroy();
      }
    };
    socket.on('data', onData);
  }

  /** Connections made with `token` so far. */
  byToken(token: string): ProgramConnection[] {
    return this.connections.filter((c) => c.hello.token === token);
  }

  /** Waits until `count` connections with `token` (any mode) arrived, or throws after `timeoutMs`. */
  async waitFor(token: string, count: number, timeoutMs: number): Promise<ProgramConnection[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.byToken(token).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ContractTimeoutError(
          `expected ${count} connection(s) with token ${token} within ${timeoutMs} ms, got ${this.byToken(token).length}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.byToken(token);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
