type Attempt = { value?: unknown; error?: string };
export declare const seen: { inRegister?: Attempt; viaContainer?: boolean; inFactory?: Attempt };
declare const plugin: unknown;
export default plugin;
