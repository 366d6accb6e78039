/** Real zip archives for tests (yazl), including hostile ones yazl itself would refuse to write. */
import { buffer as readAll } from 'node:stream/consumers';
import yauzl from 'yauzl';
import yazl from 'yazl';

export interface ZipEntrySpec {
  readonly name: string;
  /** File contents; omitted for directories. */
  readonly data?: Buffer | string;
  /** Unix mode including the file type bits (e.g. 0o120777 for a symlink). */
  readonly mode?: number;
  readonly directory?: boolean;
}

export async function makeZip(entries: readonly ZipEntrySpec[], options: { compress?: boolean } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    if (entry.directory) {
      zip.addEmptyDirectory(entry.name, entry.mode !== undefined ? { mode: entry.mode } : {});
    } else {
      const data = typeof entry.data === 'string' ? Buffer.from(entry.data) : (entry.data ?? Buffer.alloc(0));
      zip.addBuffer(data, entry.name, {
        compress: options.compress ?? true,
        ...(entry.mode !== undefined ? { mode: entry.mode } : {}),
      });
    }
  }
  zip.end();
  return readAll(zip.outputStream);
}

/**
 * Renames entries in place by replacing a placeholder with a same-length string in the local
 * headers and the central directory, e.g. `XX/evil.txt` -> `../evil.txt`. The CRC covers only the
 * data, so the archive stays valid for readers that do not check names.
 */
export function renameEntries(zip: Buffer, placeholder: string, replacement: string): Buffer {
  if (placeholder.length !== replacement.length) throw new Error('placeholder and replacement must have the same length');
  const out = Buffer.from(zip);
  const from = Buffer.from(placeholder);
  const to = Buffer.from(replacement);
  let count = 0;
  for (let i = out.indexOf(from); i !== -1; i = out.indexOf(from, i + 1)) {
    to.copy(out, i);
    count++;
  }
  if (count === 0) throw new Error(`placeholder ${placeholder} not found`);
  return out;
}

/** Entry names and contents of a zip (directories end with '/'). */
export function readZip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, zipfile) => {
      if (error) return reject(error);
      const out = new Map<string, Buffer>();
      zipfile.on('error', reject);
      zipfile.on('end', () => resolve(out));
      zipfile.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          out.set(entry.fileName, Buffer.alloc(0));
          zipfile.readEntry();
          return;
        }
        zipfile.openReadStream(entry, (err, stream) => {
          if (err) return reject(err);
          readAll(stream).then((data) => {
            out.set(entry.fileName, data);
            zipfile.readEntry();
          }, reject);
        });
      });
      zipfile.readEntry();
    });
  });
}
