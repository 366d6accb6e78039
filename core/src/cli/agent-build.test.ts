// Which build of the executor agent the miner and bin/horde.js start (bin/agent-build.js): the
// bundle and the startup snapshot count only while they are the build of the current code and
// packages, and the snapshot only on the node that made it, where it was made.
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
  writeFileSync(`${blob}.json`, JSON.stringify(options.maker ?? snapshotMaker(blob)));
  return url;
}

describe('agent build selection', () => {
  it('starts the snapshot made by this node, here, after the last tsc build', () => {
    const url = core();
    expect(agentSnapshot(url)).toBe(agentSnapshotBlob(url));
    expect(agentSnapshotBlob(url)).toBe(join(root, 'dist/agent-bundle/agent.blob'));
    expect(agentBundle(url)).toBe(join(root, 'dist/agent-bundle/executor-main.js'));
  });

  it('ignores a snapshot older than the tsc build', () => {
    const url = core({ compiledAgo: -60_000 }); // compiled after the snapshot was made
    expect(isCurrentBuild(agentSnapshotBlob(url), url)).toBe(false);
    expect(agentSnapshot(url)).toBeUndefined();
  });

  it('ignores a snapshot another node made, or one made in another directory (moved since)', () => {
    const other = (change: Record<string, string>) => {
      const url = core();
      const blob = agentSnapshotBlob(url);
      writeFileSync(`${blob}.json`, JSON.stringify({ ...snapshotMaker(blob), ...change }));
      const chosen = agentSnapshot(url);
      rmSync(root, { recursive: true, force: true });
      return chosen;
    };
    expect(other({ node: 'v22.0.0' })).toBeUndefined();
    expect(other({ execPath: '/opt/other/node' })).toBeUndefined();
    expect(other({ arch: process.arch === 'x64' ? 'arm64' : 'x64' })).toBeUndefined();
    expect(other({ blob: '/elsewhere/dist/agent-bundle/agent.blob' })).toBeUndefined();
  });

  it('ignores a snapshot without its record, or missing', () => {
    const url = core();
    rmSync(`${agentSnapshotBlob(url)}.json`);
    expect(agentSnapshot(url)).toBeUndefined();
    rmSync(agentSnapshotBlob(url));
    expect(agentSnapshot(url)).toBeUndefined();
    expect(isCurrentBuild(agentSnapshotBlob(url), url)).toBe(false);
  });
});
