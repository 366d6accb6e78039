// `@horde/ssh-launcher`: starting and watching executor agents on remote machines over SSH. A
// library, not a plugin: the ssh executor manager (a fixed fleet) and the vast one (rented
// machines) both launch through it, so neither depends on the other.
export { SshLauncher, type SshLauncherSettings, type RemoteLaunchOptions } from './ssh-launcher.js';
export { RemoteAgent, type RemoteAgentOptions } from './remote-agent.js';
export { SshConnection, describeTarget, type SshTarget, type SshConnectionSettings } from './ssh-connection.js';
export { remoteArgv, launchCommand, killCommand } from './remote-command.js';
export { shellQuote, shellQuoteArgv, exportLines, isEnvName } from './shell-quote.js';
export { privateKeyFields, readPrivateKey } from './private-key.js';
export {
  anyHostKey,
  firstUseHostKey,
  hostKeyFingerprint,
  normalizeFingerprint,
  pinnedHostKeys,
  publicKeyFingerprint,
  type HostKeyVerifier,
} from './host-key.js';
export { RemoteLaunchError, SshAuthError, SshConnectError, SshHostKeyError, SshKeyReadError } from './errors.js';
