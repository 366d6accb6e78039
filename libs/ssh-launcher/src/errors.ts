import { defineError } from '@horde/core';

/** The SSH connection could not be opened (DNS, refused, timeout) or broke while starting. */
export class SshConnectError extends defineError('HORDE_SSH_CONNECT_FAILED') {}

/** The server refused our key (not in authorized_keys, wrong user, wrong passphrase). */
export class SshAuthError extends defineError('HORDE_SSH_AUTH_FAILED') {}

/** The server's host key is not the one configured: possibly another machine in the middle. */
export class SshHostKeyError extends defineError('HORDE_SSH_HOST_KEY_REJECTED') {
  constructor(
    message: string,
    /** The fingerprint the server presented (`SHA256:…`), for the operator to check and pin. */
    readonly fingerprint: string,
  ) {
    super(message);
  }
}

/** The private key file could not be read. */
export class SshKeyReadError extends defineError('HORDE_SSH_KEY_UNREADABLE') {}

/** Connected, but the remote wrapper did not start the agent. */
export class RemoteLaunchError extends defineError('HORDE_SSH_LAUNCH_FAILED') {}
