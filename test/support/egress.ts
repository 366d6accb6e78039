/**
 * The test servers (S3, the throwaway HTTP servers, the fake Hugging Face Hub) listen on
 * 127.0.0.1, which the executor's egress policy refuses by default: tests open exactly that
 * address, explicitly, as an operator would open their internal storage.
 */
import { EgressPolicy } from '../../core/src/net/egress.js';

/** `executor.egressAllowlist` for processes that talk to the test servers. */
export const TEST_SERVERS_ALLOWLIST: readonly string[] = ['127.0.0.1/32'];

/** The policy for tests that call downloadVolume / uploadOutputs / ExecutorJobDriver directly. */
export function testServersEgress(): EgressPolicy {
  return new EgressPolicy({ allow: TEST_SERVERS_ALLOWLIST });
}
