/**
 * A hostile websocket client that does not need to hold what it sends: it upgrades by hand, then
 * writes one frame header declaring `frameBytes` and streams zeros from one shared buffer (the
 * mask key is zero, so the zeros are their own masked form). The miner may cut it off at any time.
 */
import { connect, type Socket } from 'node:net';

const ZEROS = Buffer.alloc(1024 * 1024);

export interface FloodResult {
  /** Bytes the socket accepted before the miner closed it (or the frame was all sent). */
  readonly written: number;
  /** The miner's words before it closed, as text (a GenericError frame when it said why). */
  readonly received: string;
}

/** An upgraded socket and everything the miner sent on it after the upgrade. */
export interface RawValidatorSocket {
  readonly socket: Socket;
  readonly received: () => string;
}

/** Opens `/v0.1/validator_interface/{hotkey}` on 127.0.0.1:port; resolves once upgraded. */
export function openRawValidatorSocket(port: number, hotkey: string, localAddress = '127.0.0.1'): Promise<RawValidatorSocket> {
  return new Promise((resolve, reject) => {
    // Every 127.x address is this machine: a local address per "attacker" gives distinct peers.
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        [
          `GET /v0.1/validator_interface/${hotkey} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version: 13',
          '',
          '',
        ].join('\r\n'),
      );
    });
    let all = '';
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      all += chunk.toString('latin1');
      if (upgraded) return;
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      socket.off('error', reject);
      if (!all.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${all.slice(0, end)}`));
      socket.on('error', () => {});
      // What follows the head in the same chunk (an immediate refusal) belongs to the websocket.
      const headLength = end + 4;
      resolve({ socket, received: () => all.slice(headLength) });
    });
  });
}

/** Sends one binary frame of `frameBytes` zeros, as fast as the socket takes it, until done or cut off. */
export async function floodOneFrame(raw: RawValidatorSocket, frameBytes: number): Promise<FloodResult> {
  const { socket } = raw;
  const header = Buffer.alloc(14);
  header[0] = 0x82; // FIN + binary
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(BigInt(frameBytes), 2);
  header.writeUInt32BE(0, 10); // mask key 0
  let closed = false;
  const gone = new Promise<void>((resolve) => socket.once('close', () => ((closed = true), resolve())));
  let written = 0;
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve) => {
      if (closed || socket.destroyed) return resolve();
      const more = socket.write(chunk, () => resolve());
      if (more) return;
    });
  await write(header);
  for (let left = frameBytes; left > 0 && !closed && !socket.destroyed;) {
    const piece = left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left);
    await Promise.race([write(piece), gone]);
    written += piece.length;
    left -= piece.length;
  }
  socket.end();
  await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  socket.destroy();
  return { written, received: raw.received() };
}
