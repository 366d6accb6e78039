// Types of agent-build.js (plain JavaScript, so that bin/horde.js can import it before a build).
export declare function agentBundle(core?: URL): string;
export declare function agentSnapshotBlob(core?: URL): string;
export declare function isCurrentBuild(file: string, core?: URL): boolean;
export declare function snapshotMaker(
  blob: string,
  env?: NodeJS.ProcessEnv,
): Record<'node' | 'execPath' | 'platform' | 'arch' | 'blob' | 'nodeOptions', string>;
export declare function agentSnapshot(core?: URL, env?: NodeJS.ProcessEnv): string | undefined;
