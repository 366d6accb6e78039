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
import { AGENT_EXTRA_CA_ENV, localAgentEnv } from './extra-ca.js';

describe('localAgentEnv', () => {
  const launch = { MINER_ADDRESS: 'ws://127.0.0.1:8000', EXECUTOR_TOKEN: 't' };

  it('hands NODE_EXTRA_CA_CERTS on as HORDE_EXTRA_CA_CERTS, leaving node an empty one to ignore', () => {
    const env = localAgentEnv(launch, { PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' });
    expect(env).toEqual({ PATH: '/bin', ...launch, NODE_EXTRA_CA_CERTS: '', [AGENT_EXTRA_CA_ENV]: '/etc/ca.pem' });
  });

  it('passes it on untouched when the agent makes a TLS connection of its own', () => {
    const cases = [
      [{ ...launch, MINER_ADDRESS: 'wss://miner.example:8000' }, {}],
      [launch, { DOCKER_HOST: 'tcp://10.0.0.2:2376' }],
      [launch, { DOCKER_HOST: 'unix:///run/docker.sock', DOCKER_CERT_PATH: '/certs' }],
    ] as const;
    for (const [launchEnv, extra] of cases) {
      const env = localAgentEnv(launchEnv, { NODE_EXTRA_CA_CERTS: '/etc/ca.pem', ...extra });
      expect(env.NODE_EXTRA_CA_CERTS).toBe('/etc/ca.pem');
      expect(env[AGENT_EXTRA_CA_ENV]).toBeUndefined();
    }
    expect(localAgentEnv(launch, { DOCKER_HOST: 'unix:///run/docker.sock', NODE_EXTRA_CA_CERTS: '/ca' }).NODE_EXTRA_CA_CERTS).toBe('');
  });

  it('is the miner environment with the launch over it when no extra CA is set', () => {
    expect(localAgentEnv(launch, { PATH: '/bin', EXECUTOR_TOKEN: 'old' })).toEqual({ PATH: '/bin', ...launch });
  });
});

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
    const env = localAgentEnv({ MINER_ADDRESS: 'ws://127.0.0.1:1' }, { ...process.env, NODE_EXTRA_CA_CERTS: caFile });
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
