/**
 * Hostile zip archives for the fault tests, built byte by byte where no zip writer would produce
 * them (a header that lies about the entry's size) and with yazl plus a rename otherwise.
 */
import { crc32, createDeflateRaw } from 'node:zlib';
import { buffer as readAll } from 'node:stream/consumers';
import { makeZip, renameEntries } from '../support/zip.js';

/**
 * One deflated entry of `realBytes` zeros whose local and central headers declare
 * `declaredBytes`: 512 MiB of zeros deflate to about 520 KB. The zeros are fed in 1 MiB pieces so
 * the test never holds the inflated size itself.
 */
export async function lyingSizeZip(name: string, realBytes: number, declaredBytes: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const piece = Buffer.alloc(1024 * 1024);
  let crc = 0;
  const compressed = readAll(deflate);
  for (let left = realBytes; left > 0; left -= piece.length) {
    const chunk = left >= piece.length ? piece : piece.subarray(0, left);
    crc = crc32(chunk, crc);
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  const data = await compressed;
  const fileName = Buffer.from(name);

  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(declaredBytes, 22);
  local.writeUInt16LE(fileName.length, 26);

  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(0x031e, 4); // made by: unix
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(declaredBytes, 24);
  central.writeUInt16LE(fileName.length, 28);
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  central.writeUInt32LE(0, 42); // local header offset

  const centralOffset = local.length + fileName.length + data.length;
  const centralSize = central.length + fileName.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

/** An entry named `../../<name>` (yazl refuses such names: written as a placeholder, then renamed). */
export async function zipSlip(name: string): Promise<Buffer> {
  const placeholder = `XX/XX/${name}`;
  return renameEntries(await makeZip([{ name: placeholder, data: 'escaped' }]), placeholder, `../../${name}`);
}

/** An entry with an absolute name, `/tmp/<name>`. */
export async function absolutePathZip(name: string): Promise<Buffer> {
  const placeholder = `XXXX/${name}`;
  return renameEntries(await makeZip([{ name: placeholder, data: 'absolute' }]), placeholder, `/tmp/${name}`);
}

/** A symlink entry pointing out of the volume (to `target`), then a file written through it. */
export function symlinkOutZip(target: string): Promise<Buffer> {
  return makeZip([
    { name: 'link', data: target, mode: 0o120777 },
    { name: 'link/owned.txt', data: 'through the link' },
  ]);
}

/** An honest archive that unpacks to `bytes` of zeros (each entry declares its real size). */
export function honestBombZip(bytes: number): Promise<Buffer> {
  return makeZip([{ name: 'big.bin', data: Buffer.alloc(bytes) }]);
}
