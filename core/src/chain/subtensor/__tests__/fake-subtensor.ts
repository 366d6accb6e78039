/**
 * A stand-in subtensor node for tests: a real websocket server speaking JSON-RPC 2.0 the way a
 * substrate node does (method names, parameter and result shapes, subscription notifications),
 * with the runtime metadata of a real subtensor node (the fixture, `Metadata_metadata_at_version(15)`;
 * the node offers whichever version the fixture is in).
 *
 * It keeps a chain of headers, a storage map the test fills through typed helpers, runtime-API
 * handlers, and turns every submitted extrinsic into a block with System events, so the real
 * `WsProvider` + `ApiPromise` path runs end to end. Submitted extrinsics are decoded with the
 * metadata and recorded for assertions; `onExtrinsic` decides their outcome (success, a pallet
 * error by name, or a transaction-pool rejection by `CustomTransactionError` code).
 *
 * Like a node, it checks each signed extrinsic's sr25519 signature over the signing payload its
 * metadata defines (call, the transaction extensions' explicit data, then spec and transaction
 * version, genesis hash, the era's birth block hash and the metadata-hash option) and refuses a
 * bad one with `1010 Invalid Transaction: Transaction has a bad signature`. The layout of the
 * extensions @polkadot/types does not know (subtensor's own) is read from the metadata's type
 * ids, not from horde's declarations, so a client that encodes them wrongly is caught here.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { expandMetadata, Metadata, TypeRegistry } from '@polkadot/types';
import type { Extrinsic } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { compactStripLength, compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a, signatureVerify } from '@polkadot/util-crypto';
import { WebSocketServer, type WebSocket } from 'ws';

import { emptyExtensionDeclarations, misdeclaredExtensions } from '../transaction-extensions.js';

const FIXTURE = new URL('../../__fixtures__/subtensor-metadata-v15.hex', import.meta.url);

/** Loads the fixture metadata into a registry, as a node's types would be. */
export function fixtureRegistry(atVersionHex = readFileSync(FIXTURE, 'utf8').trim()): {
  registry: TypeRegistry;
  metadata: Metadata;
  atVersionHex: string;
} {
  const registry = new TypeRegistry();
  const opaque = registry.createType('Option<OpaqueMetadata>', hexToU8a(atVersionHex)).unwrap();
  const metadata = new Metadata(registry, opaque.toU8a(true));
  // Types first (the declarations read the metadata's type ids), then the extensions.
  registry.setMetadata(metadata, undefined, undefined, true);
  registry.setSignedExtensions(registry.signedExtensions, emptyExtensionDeclarations(registry, metadata));
  return { registry, metadata, atVersionHex };
}

export interface RecordedExtrinsic {
  readonly section: string;
  readonly method: string;
  /** Call arguments by name, as `toPrimitive()` (u64 above 2^53 as decimal strings, AccountIds as ss58). */
  readonly args: Record<string, unknown>;
  readonly signer: string;
  readonly nonce: number;
  readonly hex: string;
  /** Block it was put in (undefined when the pool rejected it). */
  block?: number;
}

/** What happens to a submitted extrinsic: nothing (success), a dispatch error, or a pool rejection. */
export type ExtrinsicOutcome = void | { readonly dispatchError: string } | { readonly poolError: number };

interface Block {
  readonly number: number;
  readonly hash: string;
  readonly header: { parentHash: string; number: string; stateRoot: string; extrinsicsRoot: string; digest: { logs: string[] } };
  readonly extrinsics: string[];
  readonly events: string; // SCALE Vec<EventRecord>, hex
}

interface JsonRpcRequest {
  id: number | string;
  method: string;
  params?: unknown[];
}

const ZERO_HASH = `0x${'00'.repeat(32)}`;

export class FakeSubtensor {
  readonly registry: TypeRegistry;
  readonly metadata: Metadata;
  readonly specVersion = 331;
  /** Every JSON-RPC call received, in order. */
  readonly rpcLog: Array<{ method: string; params: unknown[] }> = [];
  /** Every extrinsic submitted, decoded. */
  readonly extrinsics: RecordedExtrinsic[] = [];
  /** Decides the outcome of each submitted extrinsic; may change storage (it runs before the block is made). */
  onExtrinsic: (extrinsic: RecordedExtrinsic) => ExtrinsicOutcome = () => undefined;
  /** Runs as a block's `on_initialize` would, before the block is made (and before its extrinsic's outcome is decided). */
  onInitialize: (block: number) => void = () => undefined;

  private readonly atVersionHex: string;
  private readonly decorated: ReturnType<typeof expandMetadata>;
  private readonly storage = new Map<string, string>();
  private readonly runtimeApis = new Map<string, (argsHex: string) => string>();
  private readonly blocks: Block[] = [];
  private readonly nonces = new Map<string, number>();
  private readonly subscriptions = new Map<string, { socket: WebSocket; kind: string }>();
  private nextSubscription = 1;
  private readonly eventsKey: string;
  private readonly storageWatches = new Map<string, Map<string, string | null>>();

  private constructor(
    private readonly server: WebSocketServer,
    startBlock: number,
    metadataHex: string | undefined,
  ) {
    const { registry, metadata, atVersionHex } = fixtureRegistry(metadataHex);
    this.registry = registry;
    this.metadata = metadata;
    this.atVersionHex = atVersionHex;
    this.decorated = expandMetadata(registry, metadata);
    this.eventsKey = this.storageKey('system', 'events', []);
    for (let n = 0; n <= startBlock; n++) this.appendBlock([], []);
    // The node offers the one metadata version its fixture is in (V15 now; a V16 fixture works the same).
    this.setRuntimeApi('Metadata_metadata_versions', () => u8aToHex(registry.createType('Vec<u32>', [metadata.version]).toU8a()));
    this.setRuntimeApi('Metadata_metadata_at_version', (args) =>
      registry.createType('u32', hexToU8a(args)).toNumber() === metadata.version
        ? atVersionHex
        : u8aToHex(registry.createType('Option<OpaqueMetadata>', null).toU8a()),
    );
    this.setRuntimeApi('AccountNonceApi_account_nonce', (args) => {
      const who = registry.createType('AccountId32', hexToU8a(args)).toString();
      return u8aToHex(registry.createType('u32', this.nonces.get(who) ?? 0).toU8a());
    });
    server.on('connection', (socket) => {
      socket.on('message', (data) => this.onMessage(socket, String(data)));
      socket.on('close', () => {
        for (const [id, sub] of this.subscriptions) {
          if (sub.socket !== socket) continue;
          this.subscriptions.delete(id);
          this.storageWatches.delete(id);
        }
      });
    });
  }

  /**
   * Starts the server on a free port of 127.0.0.1 with `startBlock` blocks already made, serving
   * the fixture metadata or `metadataHex` (an `Option<OpaqueMetadata>`, as the fixture is stored).
   */
  static async start(options: { startBlock?: number; metadataHex?: string } = {}): Promise<FakeSubtensor> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new FakeSubtensor(server, options.startBlock ?? 100, options.metadataHex);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get bestNumber(): number {
    return this.blocks.length - 1;
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- state the test controls

  /** The storage key of `section.method(...args)`, as the node computes it. */
  storageKey(section: string, method: string, args: unknown[]): string {
    const entry = this.entry(section, method);
    return u8aToHex(compactStripLength(entry(...args))[1]);
  }

  private entry(section: string, method: string) {
    const entry = this.decorated.query[section]?.[method];
    if (!entry) throw new Error(`the fixture metadata has no storage ${section}.${method}`);
    return entry;
  }

  /** Stores `value`, encoded with the storage item's value type from the metadata. */
  setStorage(section: string, method: string, args: unknown[], value: unknown): void {
    const entry = this.entry(section, method);
    const type = entry.meta.type.isMap ? entry.meta.type.asMap.value : entry.meta.type.asPlain;
    const encoded = this.registry.createType(this.registry.createLookupType(type), value);
    this.storage.set(this.storageKey(section, method, args), u8aToHex(encoded.toU8a()));
    this.notifyStorage();
  }

  /** Sends `state_storage` to subscriptions whose keys changed. */
  private notifyStorage(): void {
    const best = this.blocks[this.bestNumber]!;
    for (const [id, watched] of this.storageWatches) {
      const changes: Array<[string, string | null]> = [];
      for (const [key, last] of watched) {
        const now = this.readStorage(key, null);
        if (now !== last) {
          watched.set(key, now);
          changes.push([key, now]);
        }
      }
      if (changes.length > 0) this.notify(id, 'state_storage', { block: best.hash, changes });
    }
  }

  /** Decodes what is stored at `section.method(...args)` (undefined when nothing is). */
  getStorage(section: string, method: string, args: unknown[]): Codec | undefined {
    const raw = this.storage.get(this.storageKey(section, method, args));
    if (raw === undefined) return undefined;
    const entry = this.entry(section, method);
    const type = entry.meta.type.isMap ? entry.meta.type.asMap.value : entry.meta.type.asPlain;
    return this.registry.createType(this.registry.createLookupType(type), hexToU8a(raw));
  }

  /** Answers `state_call(name, args)` with the SCALE hex `handler` returns. */
  setRuntimeApi(name: string, handler: (argsHex: string) => string): void {
    this.runtimeApis.set(name, handler);
  }

  /** Makes an empty block (advancing the chain) and notifies head subscribers. */
  produceBlock(): number {
    this.onInitialize(this.bestNumber + 1);
    this.appendBlock([], []);
    this.notifyHeads();
    return this.bestNumber;
  }

  // ---------------------------------------------------------------- blocks

  private appendBlock(extrinsics: string[], eventRecords: Uint8Array[]): Block {
    const number = this.blocks.length;
    const parentHash = number === 0 ? ZERO_HASH : this.blocks[number - 1]!.hash;
    const stateRoot = blake2AsHex(`state-${number}`);
    const extrinsicsRoot = blake2AsHex(extrinsics.join('') || `empty-${number}`);
    const header = this.registry.createType('Header', { parentHash, number, stateRoot, extrinsicsRoot, digest: { logs: [] } });
    const block: Block = {
      number,
      hash: header.hash.toHex(),
      header: {
        parentHash,
        number: `0x${number.toString(16)}`,
        stateRoot,
        extrinsicsRoot,
        digest: { logs: [] },
      },
      extrinsics,
      events: u8aToHex(u8aConcat(compactToU8a(eventRecords.length), ...eventRecords)),
    };
    this.blocks.push(block);
    return block;
  }

  private blockByHash(hash: unknown): Block | undefined {
    if (typeof hash !== 'string') return this.blocks[this.bestNumber];
    return this.blocks.find((b) => b.hash === hash);
  }

  /** An EventRecord of the System pallet for extrinsic `index`, SCALE-encoded. */
  private systemEvent(index: number, event: Record<string, unknown>): Uint8Array {
    const system = this.metadata.asLatest.pallets.find((p) => p.name.toString() === 'System')!;
    const eventType = this.registry.lookup.getTypeDef(system.events.unwrap().type).lookupName!;
    return u8aConcat(
      this.registry.createType('FrameSystemPhase', { ApplyExtrinsic: index }).toU8a(),
      new Uint8Array([system.index.toNumber()]),
      this.registry.createType(eventType, event).toU8a(),
      compactToU8a(0), // topics
    );
  }

  /** `{ index, error }` of a pallet error, found by name in the metadata. */
  moduleError(name: string): { index: number; error: string } {
    for (const pallet of this.metadata.asLatest.pallets) {
      if (pallet.errors.isNone) continue;
      const variants = this.registry.lookup.getSiType(pallet.errors.unwrap().type).def.asVariant.variants;
      const variant = variants.find((v) => v.name.toString() === name);
      if (variant) return { index: pallet.index.toNumber(), error: u8aToHex(new Uint8Array([variant.index.toNumber(), 0, 0, 0])) };
    }
    throw new Error(`no pallet error named ${name} in the fixture metadata`);
  }

  // ---------------------------------------------------------------- JSON-RPC

  private send(socket: WebSocket, message: unknown): void {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  }

  private notify(id: string, method: string, result: unknown): void {
    const sub = this.subscriptions.get(id);
    if (sub) this.send(sub.socket, { jsonrpc: '2.0', method, params: { subscription: id, result } });
  }

  private subscribe(socket: WebSocket, kind: string): string {
    const id = `sub${this.nextSubscription++}`;
    this.subscriptions.set(id, { socket, kind });
    return id;
  }

  private notifyHeads(): void {
    const best = this.blocks[this.bestNumber]!;
    for (const [id, sub] of this.subscriptions) {
      if (sub.kind === 'newHead') this.notify(id, 'chain_newHead', best.header);
      if (sub.kind === 'finalizedHead') this.notify(id, 'chain_finalizedHead', best.header);
    }
  }

  private runtimeVersion() {
    const apis = this.metadata.asLatest.apis.map((api) => [
      blake2AsHex(api.name.toString(), 64),
      api.name.toString() === 'Metadata' ? 2 : 1,
    ]);
    return {
      specName: 'node-subtensor',
      implName: 'node-subtensor',
      authoringVersion: 1,
      specVersion: this.specVersion,
      implVersion: 1,
      apis,
      transactionVersion: 1,
      systemVersion: 1,
      stateVersion: 1,
    };
  }

  private readStorage(key: string, at: unknown): string | null {
    if (key === this.eventsKey) return this.blockByHash(at)?.events ?? null;
    return this.storage.get(key) ?? null;
  }

  private readonly methods: Record<string, (params: unknown[], socket: WebSocket) => unknown> = {
    rpc_methods: () => ({ version: 1, methods: Object.keys(this.methods).sort() }),
    system_chain: () => 'Bittensor',
    system_name: () => 'Subtensor Node',
    system_version: () => '4.0.0-dev',
    system_properties: () => ({ ss58Format: 42, tokenDecimals: 9, tokenSymbol: 'TAO' }),
    system_health: () => ({ peers: 0, isSyncing: false, shouldHavePeers: false }),
    system_accountNextIndex: ([who]) => this.nonces.get(String(who)) ?? 0,
    chain_getBlockHash: ([n]) => {
      const number = n === undefined || n === null ? this.bestNumber : Number(n);
      return this.blocks[number]?.hash ?? null;
    },
    chain_getHeader: ([hash]) => this.blockByHash(hash)?.header ?? null,
    chain_getBlock: ([hash]) => {
      const block = this.blockByHash(hash);
      return block ? { block: { header: block.header, extrinsics: block.extrinsics }, justifications: null } : null;
    },
    chain_getFinalizedHead: () => this.blocks[this.bestNumber]!.hash,
    chain_subscribeNewHeads: (_params, socket) => {
      const id = this.subscribe(socket, 'newHead');
      setImmediate(() => this.notify(id, 'chain_newHead', this.blocks[this.bestNumber]!.header));
      return id;
    },
    chain_subscribeFinalizedHeads: (_params, socket) => {
      const id = this.subscribe(socket, 'finalizedHead');
      setImmediate(() => this.notify(id, 'chain_finalizedHead', this.blocks[this.bestNumber]!.header));
      return id;
    },
    chain_unsubscribeNewHeads: ([id]) => this.subscriptions.delete(String(id)),
    // A substrate node also answers the old singular names (what @polkadot/api still sends).
    chain_subscribeNewHead: (params, socket) => this.methods['chain_subscribeNewHeads']!(params, socket),
    chain_unsubscribeNewHead: ([id]) => this.subscriptions.delete(String(id)),
    chain_subscribeRuntimeVersion: (params, socket) => this.methods['state_subscribeRuntimeVersion']!(params, socket),
    chain_unsubscribeRuntimeVersion: ([id]) => this.subscriptions.delete(String(id)),
    chain_unsubscribeFinalizedHeads: ([id]) => this.subscriptions.delete(String(id)),
    state_getRuntimeVersion: () => this.runtimeVersion(),
    state_subscribeRuntimeVersion: (_params, socket) => {
      const id = this.subscribe(socket, 'runtimeVersion');
      setImmediate(() => this.notify(id, 'state_runtimeVersion', this.runtimeVersion()));
      return id;
    },
    state_unsubscribeRuntimeVersion: ([id]) => this.subscriptions.delete(String(id)),
    state_getMetadata: () => u8aToHex(this.registry.createType('Option<OpaqueMetadata>', hexToU8a(this.atVersionHex)).unwrap().toU8a(true)),
    state_call: ([name, args]) => {
      const handler = this.runtimeApis.get(String(name));
      if (!handler) throw Object.assign(new Error(`Execution failed: Other: Exported method ${String(name)} is not found`), { code: 4003 });
      return handler(String(args));
    },
    state_getStorage: ([key, at]) => this.readStorage(String(key), at),
    state_queryStorageAt: ([keys, at]) => [
      { block: this.blockByHash(at)?.hash, changes: (keys as string[]).map((k) => [k, this.readStorage(k, at)]) },
    ],
    state_getKeysPaged: ([prefix, count, startKey]) =>
      [...this.storage.keys()]
        .filter((k) => k.startsWith(String(prefix)) && (startKey === undefined || startKey === null || k > String(startKey)))
        .sort()
        .slice(0, Number(count)),
    state_subscribeStorage: ([keys], socket) => {
      const id = this.subscribe(socket, 'storage');
      const watched = new Map((keys as string[]).map((k) => [k, this.readStorage(k, null)]));
      this.storageWatches.set(id, watched);
      const best = this.blocks[this.bestNumber]!;
      // A node first sends the current value of every key, then only the keys that change.
      setImmediate(() => this.notify(id, 'state_storage', { block: best.hash, changes: [...watched] }));
      return id;
    },
    state_unsubscribeStorage: ([id]) => this.storageWatches.delete(String(id)) && this.subscriptions.delete(String(id)),
    author_submitAndWatchExtrinsic: ([hex], socket) => this.submit(String(hex), socket),
    author_unwatchExtrinsic: ([id]) => this.subscriptions.delete(String(id)),
  };

  private onMessage(socket: WebSocket, text: string): void {
    let request: JsonRpcRequest;
    try {
      request = JSON.parse(text) as JsonRpcRequest;
    } catch {
      this.send(socket, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    const params = request.params ?? [];
    this.rpcLog.push({ method: request.method, params });
    const handler = this.methods[request.method];
    if (!handler) {
      this.send(socket, { jsonrpc: '2.0', id: request.id, error: { code: -32601, message: 'Method not found' } });
      return;
    }
    try {
      this.send(socket, { jsonrpc: '2.0', id: request.id, result: handler(params, socket) });
    } catch (error) {
      const e = error as Error & { code?: number; data?: string };
      this.send(socket, {
        jsonrpc: '2.0',
        id: request.id,
        error: { code: e.code ?? -32603, message: e.message, ...(e.data ? { data: e.data } : {}) },
      });
    }
  }

  /** A node's `InvalidTransaction` answer to `author_submit*` (code 1010), with its reason. */
  private static invalidTransaction(reason: string): Error {
    return Object.assign(new Error('Invalid Transaction'), { code: 1010, data: reason });
  }

  /**
   * Checks a signed extrinsic's signature over the payload this node would sign: the runtime's
   * spec and transaction version, block 0's hash, and the hash of the era's birth block (block 0
   * for an immortal era), as a substrate runtime's `CheckSpecVersion` … `CheckMortality` add them.
   */
  private verifySignature(extrinsic: Extrinsic): void {
    if (!extrinsic.isSigned) return;
    const unmodelled = misdeclaredExtensions(this.registry, this.metadata, []);
    if (unmodelled.length > 0)
      throw FakeSubtensor.invalidTransaction(
        `the fake node cannot check data-carrying extensions ${unmodelled.map((e) => e.name).join(', ')}`,
      );
    if (extrinsic.mode.toNumber() !== 0)
      throw FakeSubtensor.invalidTransaction('the fake node does not check metadata hashes (CheckMetadataHash mode 1)');
    const era = extrinsic.era;
    const birth = era.isMortalEra ? era.asMortalEra.birth(this.bestNumber) : 0;
    const birthBlock = this.blocks[birth];
    if (!birthBlock) throw FakeSubtensor.invalidTransaction('Transaction is outdated');
    const payload = this.registry.createType(
      'ExtrinsicPayload',
      {
        method: extrinsic.method.toHex(),
        era,
        nonce: extrinsic.nonce,
        tip: extrinsic.tip,
        mode: 0,
        specVersion: this.specVersion,
        transactionVersion: 1,
        genesisHash: this.blocks[0]!.hash,
        blockHash: birthBlock.hash,
      },
      // The version byte's top bit says "signed"; the payload wants the bare version.
      { version: extrinsic.version & 0x7f },
    );
    const bytes = payload.toU8a({ method: true });
    // Payloads over 256 bytes are signed by their blake2-256 hash.
    const message = bytes.length > 256 ? blake2AsU8a(bytes, 256) : bytes;
    if (!signatureVerify(message, extrinsic.signature.toU8a(), extrinsic.signer.toString()).isValid) {
      throw FakeSubtensor.invalidTransaction('Transaction has a bad signature');
    }
  }

  private submit(hex: string, socket: WebSocket): string {
    let extrinsic: Extrinsic;
    try {
      extrinsic = this.registry.createType('Extrinsic', hexToU8a(hex));
      // Bytes left over (an extension encoded with data the metadata says it has none of) or
      // missing are not this runtime's extrinsic.
      if (extrinsic.encodedLength !== hexToU8a(hex).length)
        throw new TypeError(`${hexToU8a(hex).length - extrinsic.encodedLength} bytes left after decoding`);
    } catch (error) {
      throw Object.assign(new Error(`Extrinsic has invalid format: ${(error as Error).message}`), { code: 1001 });
    }
    this.verifySignature(extrinsic);
    const { method } = extrinsic;
    const names = method.meta.fields.map((f) => f.name.unwrap().toString());
    const args = Object.fromEntries(
      method.args.map((arg, i) => [names[i]!.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), arg.toPrimitive()]),
    );
    const record: RecordedExtrinsic = {
      section: method.section,
      method: method.method,
      args,
      signer: extrinsic.signer.toString(),
      nonce: extrinsic.nonce.toNumber(),
      hex,
    };
    this.extrinsics.push(record);
    this.onInitialize(this.bestNumber + 1);
    const outcome = this.onExtrinsic(record);
    if (outcome && 'poolError' in outcome) {
      // What a node answers when the runtime's validate_transaction refuses the call.
      throw Object.assign(new Error('Invalid Transaction'), { code: 1010, data: `Custom error: ${outcome.poolError}` });
    }
    this.nonces.set(record.signer, record.nonce + 1);
    const id = this.subscribe(socket, 'extrinsic');
    setImmediate(() => {
      this.notify(id, 'author_extrinsicUpdate', 'ready');
      const dispatchInfo = { weight: { refTime: 1000, proofSize: 0 }, class: 'Normal', paysFee: 'No' };
      const event =
        outcome && 'dispatchError' in outcome
          ? { ExtrinsicFailed: { dispatchError: { Module: this.moduleError(outcome.dispatchError) }, dispatchInfo } }
          : { ExtrinsicSuccess: { dispatchInfo } };
      const block = this.appendBlock([hex], [this.systemEvent(0, event)]);
      record.block = block.number;
      this.notifyHeads();
      this.notify(id, 'author_extrinsicUpdate', { inBlock: block.hash });
      this.notify(id, 'author_extrinsicUpdate', { finalized: block.hash });
    });
    return id;
  }
}
