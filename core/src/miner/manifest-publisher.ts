import type { Chain, Logger } from '../contracts/index.js';
import { encodeManifestCommitment } from '../chain/manifest-commitment.js';
import type { HotkeyManifests } from './hotkey-manifests.js';

export interface ManifestPublisherOptions {
  readonly manifests: HotkeyManifests;
  /** The chain client that signs as `hotkey` (a commitment is always the signer's own). */
  readonly chainFor: (hotkey: string) => Chain;
  readonly netuid: number;
  /** Executor class → one-letter code of the commitment format (`<M:C4;L2>`). */
  readonly shortCodes: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

export interface PublishResult {
  readonly hotkey: string;
  readonly commitment: string;
  /** False when the chain already held exactly this commitment (nothing was sent). */
  readonly written: boolean;
}

/**
 * Puts each hotkey's manifest on chain as a knowledge commitment (ComputeHorde's
 * `commit_manifest_to_chain`): `<M:...>` after whatever else the hotkey commits, written only when
 * it differs from what the chain holds, so a periodic run costs a read, not a transaction.
 */
export class ManifestPublisher {
  constructor(private readonly options: ManifestPublisherOptions) {}

  async publish(): Promise<PublishResult[]> {
    const { chainFor, netuid, shortCodes, logger } = this.options;
    const manifests = await this.options.manifests.all();
    const results: PublishResult[] = [];
    for (const [hotkey, manifest] of Object.entries(manifests)) {
      const chain = chainFor(hotkey);
      const existing = await chain.commitment(netuid, hotkey);
      const commitment = encodeManifestCommitment(manifest, { existing, shortCodes });
      if (commitment === existing) {
        results.push({ hotkey, commitment, written: false });
        continue;
      }
      await chain.setCommitment(netuid, commitment);
      logger.info({ minerHotkey: hotkey, commitment, previous: existing }, 'manifest committed on chain');
      results.push({ hotkey, commitment, written: true });
    }
    return results;
  }
}
