/**
 * A real local EVM node for the collateral tests: `hardhat node` (Hardhat 2, from node_modules, no
 * download at run time) on a free port, one per test file. It serves the standard JSON-RPC API
 * (eth_*, plus hardhat_setBalance to fund fresh keys), so the collateral client talks to it
 * exactly as it would to the subtensor EVM's RPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CONFIG = join(here, '..', 'services', 'evm', 'hardhat.config.cjs');

export interface EvmNode {
  readonly url: string;
  readonly chainId: number;
  /** Gives `address` `wei` (hardhat_setBalance), for gas and deposits. */
  fund(address: string, wei: bigint): Promise<void>;
  /** Moves the chain's clock forward and mines a block (evm_increaseTime + evm_mine). */
  advance(seconds: number): Promise<void>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function startEvmNode(options: { chainId?: number; startTimeoutMs?: number } = {}): Promise<EvmNode> {
  const chainId = options.chainId ?? 31337;
  const port = await freePort();
  const cli = createRequire(import.meta.url).resolve('hardhat/internal/cli/cli.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, '--config', CONFIG, 'node', '--hostname', '127.0.0.1', '--port', String(port)],
    {
      env: {
        ...process.env,
        HORDE_TEST_EVM_CHAIN_ID: String(chainId),
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        CI: process.env.CI ?? 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // A test worker that dies without its afterAll must not leave the node running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited with ${child.exitCode}:\n${output}`);
    try {
      if (Number(await rpc(url, 'eth_chainId', [])) === chainId) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`hardhat node did not answer on ${url} within the start timeout:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    chainId,
    fund: async (address, wei) => {
      await rpc(url, 'hardhat_setBalance', [address, `0x${wei.toString(16)}`]);
    },
    advance: async (seconds) => {
      await rpc(url, 'evm_increaseTime', [seconds]);
      await rpc(url, 'evm_mine', []);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
