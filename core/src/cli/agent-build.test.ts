// Which build of the executor agent the miner and bin/horde.js start (bin/agent-build.js): the
// bundle and the startup snapshot count only while they are the build of the current code and
// packages, and the snapshot only on the node that made it, where it was made, with the same
// NODE_OPTIONS, for an agent that reads no config file.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { agentBundle, agentSnapshot, agentSnapshotBlob, isCurrentBuild, snapshotMaker } from '../../bin/agent-build.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A core directory with a tsc build at `compiledAgo` ms ago and a snapshot made now. */
function core(options: { compiledAgo?: number; maker?: Record<string, string> } = {}): URL {
  root = mkdtempSync(join(tmpdir(), 'horde-agent-build-'));
  const url = pathToFileURL(`${root}/`);
  mkdirSync(join(root, 'dist/agent-bundle'), { recursive: true });
  writeFileSync(join(root, 'dist/.tsbuildinfo'), '{}');
  const compiled = new Date(Date.now() - (options.compiledAgo ?? 60_000));
  utimesSync(join(root, 'dist/.tsbuildinfo'), compiled, compiled);
  const blob = agentSnapshotBlob(url);
  writeFileSync(blob, 'snapshot');
  writeFileSync(`${blob}.json`, JSON.stringify(options.maker ?? snapshotMaker(blob, {})));
  return url;
}

describe('agent build selection', () => {
  it('starts the snapshot made by this node, here, after the last tsc build', () => {
    const url = core();
    expect(agentSnapshot(url, {})).toBe(agentSnapshotBlob(url));
    expect(agentSnapshotBlob(url)).toBe(join(root, 'dist/agent-bundle/agent.blob'));
    expect(agentBundle(url)).toBe(join(root, 'dist/agent-bundle/executor-main.js'));
  });

  it('ignores a snapshot older than the tsc build', () => {
    const url = core({ compiledAgo: -60_000 }); // compiled after the snapshot was made
    expect(isCurrentBuild(agentSnapshotBlob(url), url)).toBe(false);
    expect(agentSnapshot(url, {})).toBeUndefined();
  });

  it('ignores a snapshot older than the last npm install, or with no tsc build at all', () => {
    const url = core();
    mkdirSync(join(root, 'node_modules'));
    writeFileSync(join(root, 'node_modules/.package-lock.json'), '{}');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'node_modules/.package-lock.json'), later, later);
    expect(agentSnapshot(url, {})).toBeUndefined();
    rmSync(join(root, 'node_modules'), { recursive: true });
    expect(agentSnapshot(url, {})).toBe(agentSnapshotBlob(url));
    rmSync(join(root, 'dist/.tsbuildinfo'));
    expect(agentSnapshot(url, {})).toBeUndefined();
  });

  it('ignores it for an agent that would read a config file, or whose NODE_OPTIONS differ from the build', () => {
    const url = core();
    expect(agentSnapshot(url, { HORDE_CONFIG: '/etc/horde.yaml' })).toBeUndefined();
    expect(agentSnapshot(url, { HORDE_CONFIG: '' })).toBeUndefined();
    // Node refuses a snapshot whose V8 flags differ (exit 14): the agent would never start.
    expect(agentSnapshot(url, { NODE_OPTIONS: '--max-old-space-size=4096' })).toBeUndefined();
    expect(agentSnapshot(url, { NODE_OPTIONS: '' })).toBe(agentSnapshotBlob(url));
  });

  it('ignores a snapshot another node made, or one made in another directory (moved since)', () => {
    const other = (change: Record<string, string>) => {
      const url = core();
      const blob = agentSnapshotBlob(url);
      writeFileSync(`${blob}.json`, JSON.stringify({ ...snapshotMaker(blob, {}), ...change }));
      const chosen = agentSnapshot(url, {});
      rmSync(root, { recursive: true, force: true });
      return chosen;
    };
    expect(other({ node: 'v22.0.0' })).toBeUndefined();
    expect(other({ execPath: '/opt/other/node' })).toBeUndefined();
    expect(other({ arch: process.arch === 'x64' ? 'arm64' : 'x64' })).toBeUndefined();
    expect(other({ blob: '/elsewhere/dist/agent-bundle/agent.blob' })).toBeUndefined();
    expect(other({ nodeOptions: '--max-old-space-size=4096' })).toBeUndefined();
  });

  it('ignores a snapshot without its record, or missing', () => {
    const url = core();
    rmSync(`${agentSnapshotBlob(url)}.json`);
    expect(agentSnapshot(url, {})).toBeUndefined();
    rmSync(agentSnapshotBlob(url));
    expect(agentSnapshot(url, {})).toBeUndefined();
    expect(isCurrentBuild(agentSnapshotBlob(url), url)).toBe(false);
  });
});
