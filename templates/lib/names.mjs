/**
 * Names derived from the package name, used as `{{name}}`, `{{className}}` and `{{pluginVar}}` in
 * the templates: `@acme/horde-plugin-fair-share` → name `fair-share` (the scope and the
 * conventional `horde-plugin-` prefix carry no meaning inside the code), class `FairShare`,
 * variable `fairShare`.
 */

/**
 * @typedef {object} DerivedNames
 * @property {string} name       short name: rule, generator and strategy names, log fields
 * @property {string} className  PascalCase, a valid identifier
 * @property {string} pluginVar  camelCase, a valid identifier
 */

const PREFIX = /^(horde-plugin-|horde-)/;

/**
 * @param {string} packageName a valid npm package name
 * @returns {DerivedNames}
 */
export function deriveNames(packageName) {
  const unscoped = packageName.replace(/^@[^/]+\//, '');
  // A name that is only the prefix (`horde-plugin-`, `horde-`) would leave nothing: keep it whole.
  const name = unscoped.replace(PREFIX, '') || unscoped;
  const words = name.split(/[^a-zA-Z0-9]+/).filter(Boolean);
  const pascal = words.map((word) => word[0].toUpperCase() + word.slice(1)).join('') || 'Plugin';
  // Identifiers cannot start with a digit (`3d-render` → `Horde3dRender`).
  const className = /^[0-9]/.test(pascal) ? `Horde${pascal}` : pascal;
  const pluginVar = className[0].toLowerCase() + className.slice(1);
  return { name, className, pluginVar };
}
