import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate } from '../tls/index.js';
import { EgressPolicy, fetchWithEgress } from './egress.js';
import { localAgentEnv, defaultExecutorCommand, executorLaunch } from '../miner/executor-launch.js';
import { AGENT_EXTRA_CA_ENV } from './extra-ca.js';

describe('HTTPS transfers with HORDE_EXTRA_CA_CERTS', () => {
  let server: Server;
  let url: string;
  let dir: string;
  let caFile: string;
  beforeAll(async () => {
    // A server whose certificate no bundled root signed: only the extra CA file vouches for it.
    const { certPem, keyPem } = await generateCertificate('127.0.0.1');
    dir = mkdtempSync(join(tmpdir(), 'horde-extra-ca-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, certPem);
    server = createServer({ cert: certPem, key: keyPem }, (req, res) => res.end(`served ${req.url}`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const policy = (extraCaFile?: string) => new EgressPolicy({ allow: ['127.0.0.1'], ...(extraCaFile ? { extraCaFile } : {}) });

  it('trusts the file the policy names, beside the bundled roots', async () => {
    const response = await fetchWithEgress(policy(caFile), `${url}/volume.zip`);
    expect(await response.text()).toBe('served /volume.zip');
  });

  it('refuses the same server without it', async () => {
    const error = (await fetchWithEgress(policy(), `${url}/volume.zip`).catch((e: unknown) => e)) as Error & { cause?: { code?: string } };
    expect(error).toBeInstanceOf(Error);
    expect(error.cause?.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it('warns about a file it cannot read and trusts the bundled roots alone, as node does', async () => {
    const warned = once(process, 'warning');
    const error = await fetchWithEgress(policy(join(dir, 'missing.pem')), `${url}/x`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [warning] = (await warned) as [Error & { code?: string }];
    expect(warning.code).toBe(AGENT_EXTRA_CA_ENV);
    expect(warning.message).toContain('missing.pem');
  });

  it('reaches the server from an agent process started with localAgentEnv (no NODE_EXTRA_CA_CERTS in effect)', async () => {
    const launch = executorLaunch('t', {
      command: defaultExecutorCommand(),
      executorAddress: 'ws://127.0.0.1:1',
      startupTimeLimitSeconds: 1,
      executor: { runner: 'process' } as Parameters<typeof executorLaunch>[1]['executor'],
    });
    const env = localAgentEnv(launch, { ...process.env, NODE_EXTRA_CA_CERTS: caFile });
    const script = `
      import { EgressPolicy, fetchWithEgress } from ${JSON.stringify(new URL('../../dist/net/egress.js', import.meta.url).href)};
      import { rootCertificates } from 'node:tls';
      const policy = new EgressPolicy({ allow: ['127.0.0.1'], extraCaFile: process.env.${AGENT_EXTRA_CA_ENV} });
      const response = await fetchWithEgress(policy, ${JSON.stringify(`${url}/from-agent`)});
      console.log(JSON.stringify({ text: await response.text(), nodeExtra: process.env.NODE_EXTRA_CA_CERTS, roots: rootCertificates.length }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
    const result = JSON.parse(stdout) as { text: string; nodeExtra: string; roots: number };
    expect(result).toMatchObject({ text: 'served /from-agent', nodeExtra: '' });
    expect(result.roots).toBeGreaterThan(100);
  });
});
