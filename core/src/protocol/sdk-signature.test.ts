import { cryptoWaitReady } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import goldens from './__fixtures__/sdk-signatures.json' with { type: 'json' };
import { encodeMessage, parseFacilitatorToValidator } from './codec.js';
import type { V0JobCheated, V2JobRequest } from './facilitator-messages.js';
import { pythonJsonDumps, type JsonValue } from './python-json.js';
import {
  signatureDigest,
  signatureFromHeaders,
  signatureToHeaders,
  signCheatReport,
  signedFieldsFromSdkJson,
  signedFieldsJson,
  signJobCreation,
  signSdkPayload,
  verifyCheatReport,
  verifyJobCreation,
  verifyJobRequestSignature,
  verifySdkSignature,
} from './sdk-signature.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
let user: Hotkey;
let validator: Hotkey;

beforeAll(async () => {
  await cryptoWaitReady();
  user = await loadHotkey({ uri: '//Charlie' });
  validator = await loadHotkey({ uri: '//Alice' });
});

describe('digests match Python hashlib.blake2b byte for byte', () => {
  for (const g of goldens) {
    it(g.name, () => {
      const ts = BigInt(g.timestamp_ns);
      if ('bytes_b64' in g && g.bytes_b64) {
        expect(hex(signatureDigest(Buffer.from(g.bytes_b64, 'base64'), ts))).toBe(g.digest_hex);
      } else if ('signed_fields_json' in g && g.signed_fields_json) {
        // Job creation: SignedFields.model_dump_json(), then json.dumps of that string (double encoding).
        const fieldsJson = signedFieldsJson(signedFieldsFromSdkJson(g.body as Record<string, unknown>));
        expect(fieldsJson).toBe(g.signed_fields_json);
        expect(pythonJsonDumps(fieldsJson, { sortKeys: true })).toBe(g.hashed_text);
        expect(hex(signatureDigest(fieldsJson, ts))).toBe(g.digest_hex);
      } else if ('validator_dict_digest_hex' in g) {
        const body = g.body as JsonValue;
        expect(hex(signatureDigest(pythonJsonDumps(body, { sortKeys: true }), ts))).toBe(g.digest_hex);
        expect(hex(signatureDigest(body, ts))).toBe(g.validator_dict_digest_hex);
      } else {
        expect(hex(signatureDigest(g.body as JsonValue, ts))).toBe(g.digest_hex);
      }
    });
  }

  it('verifies a signature made by bittensor in Python (ComputeHorde test vector)', async () => {
    const g = goldens.find((x) => x.name.startsWith('ComputeHorde'))!;
    const signature = {
      signature_type: 'bittensor',
      signatory: g.signatory!,
      timestamp_ns: BigInt(g.timestamp_ns),
      signature: g.signature_b64!,
      signature_scope: 'SignedFields' as const,
    };
    expect(await verifySdkSignature(g.body as JsonValue, signature)).toEqual({ ok: true, signatory: g.signatory });
    const other = await verifySdkSignature({ ...(g.body as object), b: 3 }, signature);
    expect(other.ok || other.error.code).toBe('INVALID_SIGNATURE');
    const late = await verifySdkSignature(g.body as JsonValue, signature, { newerThanNs: BigInt(g.timestamp_ns) + 1n });
    expect(late.ok || late.error.code).toBe('SIGNATURE_TOO_OLD');
  });
});

const jobBody = goldens[1]!.body as Record<string, unknown>;

describe('job creation (SignedFields scope)', () => {
  it('signs like the SDK and verifies like the facilitator, through the X-CH headers', async () => {
    const { signature, headers } = signJobCreation(user, jobBody, { timestampNs: 1729622861880448856n });
    expect(headers).toEqual({
      'X-CH-Signature-Type': 'bittensor',
      'X-CH-Signatory': user.ss58,
      'X-CH-Timestamp-NS': '1729622861880448856',
      'X-CH-Signature': signature.signature,
      'X-CH-Signature-Scope': 'SignedFields',
    });
    expect(Buffer.from(signature.signature, 'base64')).toHaveLength(64);
    // HTTP servers lower-case header names.
    const lowered = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const read = signatureFromHeaders(lowered);
    if (!read.ok) throw read.error;
    expect(read.signature).toEqual(signature);
    expect(await verifyJobCreation(jobBody, read.signature)).toEqual({ ok: true, signatory: user.ss58 });
    // Fields outside SignedFields (target validator, namespace) are not covered; signed ones are.
    expect((await verifyJobCreation({ ...jobBody, job_namespace: 'other' }, read.signature)).ok).toBe(true);
    const tampered = await verifyJobCreation({ ...jobBody, docker_image: 'evil:latest' }, read.signature);
    expect(tampered.ok || tampered.error.code).toBe('INVALID_SIGNATURE');
  });

  it('reports missing or malformed signature headers', () => {
    const none = signatureFromHeaders({});
    expect(none.ok || none.error.code).toBe('SIGNATURE_NOT_FOUND');
    const good = signatureToHeaders(signSdkPayload(user, { a: 1 }));
    for (const [key, value] of [
      ['X-CH-Timestamp-NS', 'soon'],
      ['X-CH-Signature-Scope', 'Everything'],
      ['X-CH-Signature', 'not base64!'],
    ] as const) {
      const r = signatureFromHeaders({ ...good, [key]: value });
      expect(r.ok || r.error.code, key).toBe('SIGNATURE_NOT_FOUND');
    }
    const { 'X-CH-Signature-Scope': _scope, ...withoutScope } = good;
    const defaulted = signatureFromHeaders(withoutScope);
    expect(defaulted.ok && defaulted.signature.signature_scope).toBe('SignedFields');
  });

  it('a validator verifies the V2JobRequest the facilitator forwards, 19-digit timestamp intact', async () => {
    const { signature } = signJobCreation(user, jobBody, { timestampNs: 1729622861880448857n });
    const volumes = jobBody.volumes as V2JobRequest['volume'][];
    const request: V2JobRequest = {
      type: 'job.new',
      message_type: 'V2JobRequest',
      uuid: '11111111-2222-3333-4444-555555555555',
      job_namespace: 'SN123.0',
      executor_class: jobBody.executor_class as string,
      docker_image: jobBody.docker_image as string,
      args: jobBody.args as string[],
      env: jobBody.env as Record<string, string>,
      use_gpu: true,
      // The facilitator wraps several volumes in a multi_volume and uploads in a multi_upload.
      volume: { volume_type: 'multi_volume', volumes: volumes as never },
      output_upload: {
        output_upload_type: 'multi_upload',
        uploads: jobBody.uploads as never,
        system_output: { output_upload_type: 'zip_and_http_put', url: 'https://s3.example.com/sys' },
      },
      artifacts_dir: jobBody.artifacts_dir as string,
      on_trusted_miner: true,
      download_time_limit: 60,
      execution_time_limit: 600,
      upload_time_limit: 120,
      streaming_start_time_limit: 30,
      streaming_details: jobBody.streaming_details as V2JobRequest['streaming_details'],
      signature,
    };
    const frame = encodeMessage(request);
    expect(frame).toContain('"timestamp_ns":1729622861880448857');
    const parsed = parseFacilitatorToValidator(frame);
    if (!parsed.ok) throw parsed.error;
    const received = parsed.message as V2JobRequest;
    expect(received.signature?.timestamp_ns).toBe(1729622861880448857n);
    expect(await verifyJobRequestSignature(received)).toEqual({ ok: true, signatory: user.ss58 });
    const changed = await verifyJobRequestSignature({ ...received, args: ['rm', '-rf', '/'] });
    expect(changed.ok || changed.error.code).toBe('INVALID_SIGNATURE');
    const unsigned = await verifyJobRequestSignature({ ...received, signature: null });
    expect(unsigned.ok || unsigned.error.code).toBe('SIGNATURE_NOT_FOUND');
  });
});

describe('cheat reports (FullRequest scope)', () => {
  const body = { job_uuid: 'a1', trusted_job_uuid: 'b2', details: { reason: 'różne wyniki', score: 0.25 } };

  it('verifies the SDK form and the form ComputeHorde validators sign', async () => {
    const sdk = signCheatReport(user, body).signature;
    expect(sdk.signature_scope).toBe('FullRequest');
    expect(await verifyCheatReport(body, sdk)).toEqual({ ok: true, signatory: user.ss58 });
    const dictForm = signSdkPayload(validator, body, { scope: 'FullRequest' });
    expect(await verifyCheatReport(body, dictForm)).toEqual({ ok: true, signatory: validator.ss58 });
    const other = await verifyCheatReport({ ...body, trusted_job_uuid: 'zz' }, sdk);
    expect(other.ok || other.error.code).toBe('INVALID_SIGNATURE');
  });

  it('round-trips a V0JobCheated through the codec', async () => {
    const msg: V0JobCheated = {
      type: 'job.cheated',
      message_type: 'V0JobCheated',
      ...body,
      signature: signCheatReport(user, body).signature,
    };
    const parsed = parseFacilitatorToValidator(encodeMessage(msg));
    if (!parsed.ok) throw parsed.error;
    const cheated = parsed.message as V0JobCheated;
    expect(cheated).toEqual(msg);
    expect((await verifyCheatReport(cheated, cheated.signature!)).ok).toBe(true);
  });

  it('refuses an unsupported signature type', async () => {
    const sig = { ...signSdkPayload(user, { a: 1 }), signature_type: 'ed25519' };
    const r = await verifySdkSignature({ a: 1 }, sig);
    expect(r.ok || r.error.code).toBe('UNSUPPORTED_SIGNATURE_TYPE');
  });
});
