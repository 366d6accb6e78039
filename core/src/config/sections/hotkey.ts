import { z } from 'zod';
import { definedFields } from '../../object/defined-fields.js';

/**
 * Which sr25519 hotkey the process signs with. Three forms, the same as `HotkeySource` of the keys
 * module:
 * - `{ uri }`: a dev URI (`//Alice`), a mnemonic, or a `0x` seed. A bare string is shorthand for it.
 * - `{ file }`: a bittensor wallet hotkey file (JSON with `secretPhrase` or `secretSeed`).
 * - `{ wallet, hotkey, walletsDir? }`: `<walletsDir>/<wallet>/hotkeys/<hotkey>`, walletsDir
 *   defaulting to `~/.bittensor/wallets`, the layout the bittensor CLI writes.
 *
 * Default: the bittensor CLI's default wallet (`default`/`default`). A well-known dev key is never
 * a default: it has to be asked for (`hotkey: //Alice`), so a production process cannot sign with
 * one by accident.
 *
 * One flat object with a refinement (rather than a union of three objects) so that a mistake is
 * reported on the field that holds it (`hotkey.file: expected a string`) instead of as "matches
 * none of the alternatives".
 */
const hotkeyFields = z.strictObject({
  uri: z.string().min(1).optional(),
  file: z.string().min(1).optional(),
  wallet: z.string().min(1).optional(),
  hotkey: z.string().min(1).optional(),
  walletsDir: z.string().min(1).optional(),
});

export type HotkeySourceConfig = { uri: string } | { file: string } | { wallet: string; hotkey: string; walletsDir?: string };

export const hotkeySection = z.preprocess(
  (value) => (typeof value === 'string' ? { uri: value } : value),
  hotkeyFields
    .superRefine((fields, ctx) => {
      const forms = [
        fields.uri !== undefined && 'uri',
        fields.file !== undefined && 'file',
        (fields.wallet ?? fields.hotkey ?? fields.walletsDir) !== undefined && 'wallet/hotkey',
      ].filter((form): form is string => form !== false);
      if (forms.length > 1) {
        ctx.addIssue({
          code: 'custom',
          message: `give one way to find the hotkey, not ${forms.join(' and ')}: { uri }, { file } or { wallet, hotkey, walletsDir? }`,
        });
      }
    })
    .transform((fields): HotkeySourceConfig => {
      if (fields.uri !== undefined) return { uri: fields.uri };
      if (fields.file !== undefined) return { file: fields.file };
      return {
        wallet: fields.wallet ?? 'default',
        hotkey: fields.hotkey ?? 'default',
        ...definedFields({ walletsDir: fields.walletsDir }),
      };
    }),
);

/** What a config file may write under `hotkey`. */
export type HotkeySectionInput = string | z.input<typeof hotkeyFields>;
