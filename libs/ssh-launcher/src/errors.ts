import { HordeError } from '@horde/core';

/** The SSH connection could not be opened (DNS, refused, timeout) or broke while starting. */
export class SshConnectError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SSH_CONNECT_FAILED', message, options);
  }
}

/** The server refused our key (not in authorized_keys, wrong user, wrong passphrase). */
export class SshAuthError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SSH_AUTH_FAILED', message, options);
  }
}

/** The server's host key is not the one configured: possibly another machine in the middle. */
export class SshHostKeyError extends HordeError {
  constructor(
    message: string,
    /** The fingerprint the server presented (`SHA256:…`), for the operator to check and pin. */
    readonly fingerprint: string,
  ) {
    super('SSH_HOST_KEY_REJECTED', message);
  }
}

/** The private key file could not be read. */
export class SshKeyReadError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SSH_KEY_UNREADABLE', message, options);
  }
}

/** Connected, but the remote wrapper did not start the agent. */
export class RemoteLaunchError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SSH_LAUNCH_FAILED', message, options);
  }
}
