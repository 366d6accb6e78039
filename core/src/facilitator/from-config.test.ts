import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LocalChain } from '../chain/local/local-chain.js';
import { parseConfig } from '../config/load.js';
import { loadHotkey } from '../keys/index.js';
import { silentLogger } from '../logging/index.js';
import { openStore } from '../store/index.js';
import { startFacilitator } from './from-config.js';

const dir = mkdtempSync(join(tmpdir(), 'horde-facilitator-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('`horde facilitator` starts from a config: its store, the local chain, its port; "*" lets any hotkey log in; tokens survive a restart', async () => {
  const filename = join(dir, 'horde.sqlite');
  const setup = await openStore({ client: 'sqlite', filename });
  await LocalChain.init(setup, { blockTimeMs: 1000, subnets: [{ netuid: 7 }] });
  await setup.close();

  const config = parseConfig(
    {
      role: 'facilitator',
      store: { client: 'sqlite', filename },
      chain: { network: 'local', netuid: 7 },
      facilitator: { host: '127.0.0.1', port: 0, hotkeyWhitelist: ['*'] },
      plugins: [],
    },
    { baseDir: dir },
  );
  const facilitator = await startFacilitator(config, { logger: silentLogger() });
  let token: string;
  try {
    const base = facilitator.handle.url!;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok', validators: [] });
    const stranger = await loadHotkey({ uri: '//AnyClient' });
    const { nonce } = (await (await fetch(`${base}/api/v1/auth/nonce`)).json()) as { nonce: string };
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hotkey: stranger.ss58, signature: stranger.sign(nonce), nonce }),
    });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { token: string }).token;
  } finally {
    await facilitator.close();
  }

  // The token secret was generated once and kept in the store: a restarted facilitator accepts the token.
  const restarted = await startFacilitator(config, { logger: silentLogger() });
  try {
    const jobs = await fetch(`${restarted.handle.url!}/api/v1/jobs/`, { headers: { authorization: `Bearer ${token}` } });
    expect(jobs.status).toBe(200);
    expect(await jobs.json()).toEqual({ count: 0, next: null, previous: null, results: [] });
  } finally {
    await restarted.close();
  }
});

it('serves its metrics on its port and, with the dashboard on, a page of organic jobs by status', async () => {
  const filename = join(dir, 'metrics.sqlite');
  const setup = await openStore({ client: 'sqlite', filename });
  await LocalChain.init(setup, { blockTimeMs: 1000, subnets: [{ netuid: 7 }] });
  await setup.close();
  const config = parseConfig(
    {
      role: 'facilitator',
      store: { client: 'sqlite', filename },
      chain: { network: 'local', netuid: 7 },
      facilitator: { host: '127.0.0.1', port: 0, hotkeyWhitelist: ['*'] },
      dashboard: { enabled: true, port: 0 },
      plugins: [],
    },
    { baseDir: dir },
  );
  const facilitator = await startFacilitator(config, { logger: silentLogger() });
  try {
    const metrics = await (await fetch(`${facilitator.handle.url!}/metrics`)).text();
    expect(metrics).toMatch(/^horde_facilitator_jobs\{status="completed",role="facilitator"\} 0$/m);
    expect(metrics).toMatch(/^horde_facilitator_validator_connections\{role="facilitator"\} 0$/m);
    expect(metrics).toContain('horde_chain_call_duration_seconds');
    const page = await (await fetch(facilitator.dashboardUrl!)).text();
    expect(page).toContain('<h1>horde facilitator</h1>');
    expect(page).toContain('Organic jobs by status');
    expect(page).toContain('No organic job submitted yet.');
    expect(await (await fetch(new URL('metrics', facilitator.dashboardUrl!))).text()).toContain('horde_facilitator_jobs');
  } finally {
    await facilitator.close();
  }
});
