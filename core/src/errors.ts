import { ERROR_CATALOGUE, type HordeErrorCode } from './error-catalogue.js';

export { ERROR_CATALOGUE, type HordeErrorCode } from './error-catalogue.js';

/**
 * Base of every error horde throws on purpose. `code` is stable (tests, logs and API replies match
 * on it); `message` says what went wrong and, where there is one, how to fix it. horde's own errors
 * are made with `defineError` (codes from the catalogue); a few families carry a wire value as their
 * code (`AuthError`, the facilitator's `ApiError`, `ChainError`), which the protocol fixes, not us.
 */
export class HordeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A class made by `defineError`: its instances carry exactly its code. */
export interface DefinedErrorClass<C extends string> {
  new (message?: string, options?: { cause?: unknown }): HordeError & { readonly code: C };
  /** The code every instance carries. */
  readonly code: C;
  /** What the code means, from the catalogue. */
  readonly summary: string;
}

/**
 * The base class for one code of the catalogue: `class ImageNotFoundError extends
 * defineError('HORDE_IMAGE_NOT_FOUND') {}`. Subclasses keep their own name (`instanceof`, `name`)
 * and may add fields through their own constructor; `message` defaults to `defaultMessage`, else
 * to the catalogue's summary of the code.
 */
export function defineError<const C extends HordeErrorCode>(code: C, defaultMessage?: string): DefinedErrorClass<C> {
  return errorClass(code, ERROR_CATALOGUE[code], defaultMessage);
}

/**
 * `defineError` for a plugin outside this repository, whose codes are not in horde's catalogue:
 * the plugin names its code (prefixed with its own name, e.g. `horde-plugin-x:START_REFUSED`) and
 * says what it means. The class behaves as `defineError`'s.
 */
export function definePluginError<const C extends string>(code: C, summary: string): DefinedErrorClass<C> {
  return errorClass(code, summary, undefined);
}

function errorClass<C extends string>(code: C, summary: string, defaultMessage: string | undefined): DefinedErrorClass<C> {
  class DefinedError extends HordeError {
    static readonly code = code;
    static readonly summary = summary;
    declare readonly code: C;

    constructor(message: string = defaultMessage ?? summary, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  }
  return DefinedError;
}

/**
 * The catalogue as the Markdown table in CONTRIBUTING.md (`npm run errors:table` writes it there;
 * `core/src/errors.test.ts` fails when the two differ).
 */
export function errorCatalogueTable(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, summary]) => `| \`${code}\` | ${summary.replaceAll('|', '\\|')} |`);
  return ['| Code | Meaning |', '| --- | --- |', ...rows].join('\n');
}
