import { createHash } from 'node:crypto';

/**
 * Decides whether a server's host key is trusted, given its OpenSSH SHA-256 fingerprint
 * (`SHA256:…`, what `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints). Returning false
 * aborts the connection before any credential or command is sent.
 */
export type HostKeyVerifier = (fingerprint: string) => boolean;

/** OpenSSH's fingerprint of a host key blob (the wire-format public key): `SHA256:` + unpadded base64. */
export function hostKeyFingerprint(keyBlob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Fingerprint of a public key line as in `*.pub` or known_hosts (`ssh-ed25519 AAAA… comment`). */
export function publicKeyFingerprint(line: string): string {
  const blob = line
    .trim()
    .split(/\s+/)
    .find((field) => field.startsWith('AAAA'));
  if (!blob) throw new TypeError('not an OpenSSH public key line (expected "<type> AAAA… [comment]")');
  return hostKeyFingerprint(Buffer.from(blob, 'base64'));
}

/** `SHA256:abc`, `sha256:abc=` and `abc` all name the same fingerprint. */
export function normalizeFingerprint(fingerprint: string): string {
  return `SHA256:${fingerprint
    .trim()
    .replace(/^sha256:/i, '')
    .replace(/=+$/, '')}`;
}

/** Trusts only the listed fingerprints (several allow a key rotation without downtime). */
export function pinnedHostKeys(fingerprints: readonly string[]): HostKeyVerifier {
  const trusted = new Set(fingerprints.map(normalizeFingerprint));
  return (fingerprint) => trusted.has(normalizeFingerprint(fingerprint));
}

/** Trusts any key: only for throwaway test hosts (`insecureAcceptAnyHostKey`). */
export function anyHostKey(): HostKeyVerifier {
  return () => true;
}

/**
 * Trusts the first key it sees and only that key afterwards. For machines whose key nobody can know
 * in advance (a freshly rented instance): it cannot stop an attacker on the very first connection,
 * but it does stop one who appears later, while the instance lives.
 */
export function firstUseHostKey(): HostKeyVerifier & { readonly pinned: () => string | null } {
  let pinned: string | null = null;
  const verify = (fingerprint: string) => {
    const normalized = normalizeFingerprint(fingerprint);
    pinned ??= normalized;
    return pinned === normalized;
  };
  return Object.assign(verify, { pinned: () => pinned });
}
