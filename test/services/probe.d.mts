// Types of probe.mjs for the TypeScript test setup.
export function probeDocker(dockerHost: string): Promise<void>;
export function probeS3(endpoint: string): Promise<void>;
export function probePg(url: string): Promise<void>;
export function probeTcp(host: string, port: string | number): Promise<void>;
