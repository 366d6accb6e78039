import { buffer as readAll } from 'node:stream/consumers';
import yazl from 'yazl';
import type { InlineVolume } from '../contracts/index.js';
import { definedFields } from '../object/defined-fields.js';

/**
 * Packs small files into an `inline` volume (a base64 zip carried in the job message itself), the
 * volume type synthetic jobs use so the executor needs no object store. Keep it small: the whole
 * zip travels in one websocket frame (50 MiB at most) and is held in memory on both sides.
 */
export async function makeInlineVolume(
  files: Readonly<Record<string, string | Uint8Array>>,
  options: { readonly relativePath?: string } = {},
): Promise<InlineVolume> {
  const zip = new yazl.ZipFile();
  // A fixed mtime keeps the zip a function of its contents (same files → same bytes).
  const mtime = new Date(Date.UTC(2020, 0, 1));
  for (const [name, contents] of Object.entries(files)) {
    zip.addBuffer(typeof contents === 'string' ? Buffer.from(contents) : Buffer.from(contents), name, { mtime });
  }
  zip.end();
  const bytes = await readAll(zip.outputStream);
  return {
    volume_type: 'inline',
    contents: bytes.toString('base64'),
    ...definedFields({ relative_path: options.relativePath }),
  };
}
