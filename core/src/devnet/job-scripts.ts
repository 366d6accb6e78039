import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { resolvePluginModule } from '../plugin/resolve-module.js';
import type { JobScripts } from './configs.js';
import { DevnetPreflightError } from './errors.js';

const HASH_CRACK_PLUGIN = '@horde/plugin-job-hash-crack';

/** What the devnet needs from the hash-crack plugin's exports. */
const hashCrackExports = z.object({
  DEFAULT_IMAGE: z.string().min(1),
  CRACK_SCRIPT: z.string().min(1),
  CHEAT_SCRIPT: z.string().min(1),
});

/**
 * The hash-crack image name and its job scripts, from wherever the plugin is installed (the
 * plugin exports their paths), never from the working directory.
 */
export async function hashCrackScripts(): Promise<JobScripts> {
  const location = resolvePluginModule(HASH_CRACK_PLUGIN, process.cwd());
  if (!location.found) throw new DevnetPreflightError(`the devnet needs ${HASH_CRACK_PLUGIN}: ${location.reason}`);
  let exported: z.infer<typeof hashCrackExports>;
  try {
    exported = hashCrackExports.parse(await import(pathToFileURL(location.path).href));
  } catch (error) {
    throw new DevnetPreflightError(
      `${HASH_CRACK_PLUGIN} (${location.path}) does not export DEFAULT_IMAGE, CRACK_SCRIPT and CHEAT_SCRIPT: ${(error as Error).message}`,
      { cause: error },
    );
  }
  for (const script of [exported.CRACK_SCRIPT, exported.CHEAT_SCRIPT]) {
    if (!existsSync(script)) throw new DevnetPreflightError(`${HASH_CRACK_PLUGIN} names a job script that is not there: ${script}`);
  }
  return { image: exported.DEFAULT_IMAGE, crack: exported.CRACK_SCRIPT, cheat: exported.CHEAT_SCRIPT };
}
