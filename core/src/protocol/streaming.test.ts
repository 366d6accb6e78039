import { describe, expect, it } from 'vitest';
import { loadHotkey } from '../keys/index.js';
import type { V0StreamingJobReadyRequest } from './messages.js';
import { signStreamingReady, streamingReadyBlob, verifyStreamingReady } from './streaming.js';

const fromExecutor: V0StreamingJobReadyRequest = {
  message_type: 'V0StreamingJobReadyRequest',
  job_uuid: 'j1',
  executor_token: 'j1-secret-token',
  public_key: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  port: 6006,
};

describe('streaming ready signature', () => {
  it('uses the original blob, with None for a missing ip', () => {
    expect(streamingReadyBlob(fromExecutor)).toBe(`j1:None:6006:${fromExecutor.public_key}`);
    expect(streamingReadyBlob({ ...fromExecutor, ip: '10.0.0.2' })).toBe(`j1:10.0.0.2:6006:${fromExecutor.public_key}`);
  });

  it('the miner fills the ip, drops the token and signs; the validator verifies', async () => {
    const [miner, eve] = await Promise.all([loadHotkey({ uri: '//Bob' }), loadHotkey({ uri: '//Eve' })]);
    const relayed = signStreamingReady(fromExecutor, '203.0.113.7', miner);
    expect(relayed.ip).toBe('203.0.113.7');
    expect(relayed).not.toHaveProperty('executor_token');
    expect(await verifyStreamingReady(relayed, miner.ss58)).toBe(true);
    expect(await verifyStreamingReady({ ...relayed, ip: '198.51.100.1' }, miner.ss58)).toBe(false);
    expect(await verifyStreamingReady(relayed, eve.ss58)).toBe(false);
    expect(await verifyStreamingReady({ ...relayed, miner_signature: null }, miner.ss58)).toBe(false);
  });
});
