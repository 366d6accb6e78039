import { readFile } from 'node:fs/promises';
import { z } from '@horde/core';
import { SshKeyReadError } from './errors.js';

/** Private key settings: a file, or the key text itself (exactly one; the manager's schema checks that). */
export const privateKeyFields = {
  /** Path of the private key file (OpenSSH or PEM). Read at each connection, so rotating it needs no restart. */
  privateKeyPath: z.string().min(1).optional(),
  /** The private key text itself (e.g. from a secret store through a JS config file). */
  privateKey: z.string().min(1).optional(),
  /** Passphrase of an encrypted key. */
  passphrase: z.string().optional(),
};

/** Reads a private key file, or throws an error that names the file. */
export async function readPrivateKey(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new SshKeyReadError(`cannot read the ssh private key ${path}: ${(error as Error).message}`, { cause: error });
  }
}
