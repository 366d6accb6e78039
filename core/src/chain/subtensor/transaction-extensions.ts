/**
 * The transaction extensions a runtime's metadata lists, with the layout of what each adds to an
 * extrinsic (`explicit`, the extra bytes) and to the signing payload (`implicit`, the additional
 * signed data), read from the metadata's own type ids.
 *
 * @polkadot/types knows the layout of substrate's standard extensions; any other one it treats as
 * carrying nothing. That is right for subtensor's own (`SubtensorTransactionExtension`,
 * `DrandPriority`, `SudoTransactionExtension`, `CheckShieldedTxValidity` are all `()`), but a
 * runtime upgrade that adds data to one would make every signature horde sends wrong, and the node
 * would only answer "bad signature". Checking the metadata turns that into a clear refusal before
 * anything is signed.
 */
import type { Metadata } from '@polkadot/types';
import { findUnknownExtensions } from '@polkadot/types/extrinsic/signedExtensions';
import type { Registry } from '@polkadot/types/types';

export interface TransactionExtensionLayout {
  readonly name: string;
  /** Type of the bytes the extension adds to the extrinsic, as @polkadot/types names it (`Null` = none). */
  readonly explicit: string;
  /** Type of what it adds to the signing payload (`Null` = none). */
  readonly implicit: string;
}

/** Every transaction extension of the metadata, in order (V14/V15 `signedExtensions`, V16 `transactionExtensions`). */
export function transactionExtensionLayouts(registry: Registry, metadata: Metadata): TransactionExtensionLayout[] {
  const typeName = (id: Parameters<Registry['lookup']['getTypeDef']>[0]) => registry.lookup.getTypeDef(id).type;
  if (metadata.version >= 16) {
    return metadata.asV16.extrinsic.transactionExtensions.map((e) => ({
      name: e.identifier.toString(),
      explicit: typeName(e.type),
      implicit: typeName(e.implicit),
    }));
  }
  const extensions = metadata.version === 15 ? metadata.asV15.extrinsic.signedExtensions : metadata.asV14.extrinsic.signedExtensions;
  return extensions.map((e) => ({ name: e.identifier.toString(), explicit: typeName(e.type), implicit: typeName(e.additionalSigned) }));
}

function isEmpty(type: string): boolean {
  return type === 'Null' || type === '()';
}

/**
 * The extensions whose layout @polkadot/types would get wrong when given `declaredEmpty` (names
 * declared as carrying nothing): those it has no built-in layout for, or that are declared empty,
 * whose metadata says they carry data.
 */
export function misdeclaredExtensions(
  registry: Registry,
  metadata: Metadata,
  declaredEmpty: readonly string[],
): TransactionExtensionLayout[] {
  const layouts = transactionExtensionLayouts(registry, metadata);
  const unknown = new Set(findUnknownExtensions(layouts.map((l) => l.name)));
  const declared = new Set(declaredEmpty);
  return layouts.filter((l) => (unknown.has(l.name) || declared.has(l.name)) && !(isEmpty(l.explicit) && isEmpty(l.implicit)));
}

/** Declarations of the metadata's empty extensions that @polkadot/types does not know, for `setSignedExtensions`. */
export function emptyExtensionDeclarations(
  registry: Registry,
  metadata: Metadata,
): Record<string, { extrinsic: Record<string, never>; payload: Record<string, never> }> {
  const layouts = transactionExtensionLayouts(registry, metadata);
  const unknown = new Set(findUnknownExtensions(layouts.map((l) => l.name)));
  return Object.fromEntries(
    layouts
      .filter((l) => unknown.has(l.name) && isEmpty(l.explicit) && isEmpty(l.implicit))
      .map((l) => [l.name, { extrinsic: {}, payload: {} }]),
  );
}
