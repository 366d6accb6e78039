import type { Chain, Logger } from '../contracts/index.js';

export interface AxonAnnouncement {
  /** Public IP validators reach the miner at. */
  readonly ip: string;
  readonly port: number;
  /** `version_as_int` of the software: `major·1000² + minor·1000 + patch`, as the bittensor SDK encodes it. */
  readonly version: number;
}

/** `1.2.3` → 1002003, the bittensor SDK's `version_as_int`. */
export function versionAsInt(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version
    .split(/[.+-]/)
    .slice(0, 3)
    .map((part) => Number.parseInt(part, 10) || 0);
  return major * 1_000_000 + minor * 1_000 + patch;
}

/**
 * Tells the chain where validators find this miner (`serve_axon` for each of its hotkeys), as
 * ComputeHorde's `announce_address_and_port` does every 30 minutes. The chain clients skip a
 * serve when the chain already holds the same axon, so repeating it costs a read.
 */
export async function announceAxon(options: {
  readonly hotkeys: readonly string[];
  readonly chainFor: (hotkey: string) => Chain;
  readonly netuid: number;
  readonly axon: AxonAnnouncement;
  readonly logger: Logger;
}): Promise<void> {
  const { axon } = options;
  for (const hotkey of options.hotkeys) {
    // protocol 4 = TCP, as the SDK's `serve_axon` sends.
    await options.chainFor(hotkey).serveAxon(options.netuid, { ip: axon.ip, port: axon.port, protocol: 4, version: axon.version });
    options.logger.debug({ minerHotkey: hotkey, ip: axon.ip, port: axon.port }, 'axon announced');
  }
}
