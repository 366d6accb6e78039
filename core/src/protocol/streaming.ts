import type { Hotkey } from '../keys/index.js';
import { verifySignature } from '../keys/verify.js';
import type { V0StreamingJobReadyRequest } from './messages.js';

/**
 * `V0StreamingJobReadyRequest.blob_for_signing()`: `f"{job_uuid}:{ip}:{port}:{public_key}"`. A
 * missing ip is Python's `None`, written as the text "None".
 */
export function streamingReadyBlob(msg: Pick<V0StreamingJobReadyRequest, 'job_uuid' | 'ip' | 'port' | 'public_key'>): string {
  return `${msg.job_uuid}:${msg.ip ?? 'None'}:${msg.port}:${msg.public_key}`;
}

/** Miner side: fill in the executor's ip and sign, before relaying to the validator. */
export function signStreamingReady(msg: V0StreamingJobReadyRequest, executorIp: string, miner: Hotkey): V0StreamingJobReadyRequest {
  const withIp = { ...msg, ip: executorIp };
  delete withIp.executor_token; // never leaves the miner
  return { ...withIp, miner_signature: miner.sign(streamingReadyBlob(withIp)) };
}

/** Validator side: the miner's signature over the streaming details. */
export async function verifyStreamingReady(msg: V0StreamingJobReadyRequest, minerHotkey: string): Promise<boolean> {
  if (!msg.miner_signature) return false;
  return verifySignature(streamingReadyBlob(msg), msg.miner_signature, minerHotkey);
}
