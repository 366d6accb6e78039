import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { firstUseHostKey, normalizeFingerprint, pinnedHostKeys, publicKeyFingerprint } from './host-key.js';

describe('host key fingerprints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-hostkey-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['ed25519', 'rsa', 'ecdsa'])('match what ssh-keygen -lf prints for an %s key', (type) => {
    const file = join(dir, `key-${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
    // "256 SHA256:abc… comment (ED25519)"
    const expected = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1];
    expect(publicKeyFingerprint(readFileSync(`${file}.pub`, 'utf8'))).toBe(expected);
  });

  it('refuses a line that holds no key', () => {
    expect(() => publicKeyFingerprint('not a key')).toThrow(/not an OpenSSH public key line/);
  });
});

describe('host key verifiers', () => {
  it('pinned keys accept only the listed fingerprints, in any of the usual spellings', () => {
    const verify = pinnedHostKeys(['SHA256:abcDEF+/1', 'sha256:other=']);
    expect(verify('SHA256:abcDEF+/1')).toBe(true);
    expect(verify('abcDEF+/1')).toBe(true);
    expect(verify('SHA256:other')).toBe(true);
    expect(verify('SHA256:abcdef+/1'), 'base64 is case-sensitive').toBe(false);
    expect(verify('SHA256:intruder')).toBe(false);
    expect(normalizeFingerprint(' SHA256:x= ')).toBe('SHA256:x');
  });

  it('trust on first use pins the first key and refuses any other afterwards', () => {
    const verify = firstUseHostKey();
    expect(verify.pinned()).toBeNull();
    expect(verify('SHA256:first')).toBe(true);
    expect(verify('SHA256:first')).toBe(true);
    expect(verify('SHA256:second')).toBe(false);
    expect(verify.pinned()).toBe('SHA256:first');
  });
});
