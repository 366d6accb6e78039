/**
 * POSIX shell quoting. Every string that reaches a remote shell goes through here: an SSH "exec"
 * request carries ONE command string, which the remote login shell parses, so argv elements and
 * env values must be turned into words that parse back to exactly the same bytes.
 *
 * Single quotes are the only POSIX quoting with no special characters inside (no `$`, backquote,
 * backslash or history expansion), so a word is wrapped in '…' and each embedded ' becomes '\''
 * (close the quote, an escaped quote, reopen). Works in sh, dash, bash, ksh, zsh and busybox sh.
 */
export function shellQuote(word: string): string {
  // A NUL cannot be part of an argv element or an env value: the kernel would cut the string there.
  if (word.includes('\0')) throw new TypeError('a shell word cannot contain a NUL byte');
  // Plain words stay readable in logs and `ps`; everything else is quoted. Not `=` first: zsh
  // expands a leading `=cmd` to the command's path.
  if (/^[A-Za-z0-9_@%+:,./-][A-Za-z0-9_@%+=:,./-]*$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each element and joins them with spaces: the command line that runs exactly `argv`. */
export function shellQuoteArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** Names a POSIX shell accepts in `export NAME=…` (and that `env` and execve agree on). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * `export NAME=value` lines for a shell to `eval`. Names are checked, not quoted: a name that is not
 * an identifier would be shell syntax, so it is refused.
 */
export function exportLines(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!isEnvName(name)) throw new TypeError(`invalid environment variable name ${JSON.stringify(name)}`);
      return `export ${name}=${shellQuote(value)}\n`;
    })
    .join('');
}
