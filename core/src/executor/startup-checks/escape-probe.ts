/**
 * The shell script the `container_escape` check runs inside a job-like container, and the reading
 * of its output.
 *
 * The escape it looks for: a process that can write a cgroup v1 `release_agent` makes the host
 * kernel run a program of its choice as root on the host when a cgroup empties. Two ways in:
 *
 *  - direct: the container itself may mount cgroup v1 (it has CAP_SYS_ADMIN, and neither seccomp
 *    nor AppArmor stops the mount): `--privileged`, `--cap-add SYS_ADMIN`, unconfined profiles;
 *  - CVE-2022-0492: the container may create a user namespace (seccomp allows `unshare`), where it
 *    is root, plus mount and cgroup namespaces, and mount cgroup v1 there; kernels without the fix
 *    (5.17, and backports) then let it write `release_agent`.
 *
 * For each cgroup v1 hierarchy the container is in (and `rdma` and a named hierarchy, which exist
 * on cgroup v2 hosts too), both ways are tried: mount the hierarchy, and if a `release_agent` is
 * there, write its current value back to it — a real write (the kernel's permission check happens
 * on write, not on open) that changes nothing. The probe is the equivalent of the public image the
 * original runs (`can-ctr-escape-cve-2022-0492`, which must print "Contained: cannot escape via
 * CVE-2022-0492"), written here because that image cannot be pulled everywhere.
 *
 * It fails closed: when it cannot tell (no `mount` in the image; user namespaces allowed but no
 * `unshare` that can make a cgroup namespace, as BusyBox's cannot), the verdict is `untestable`,
 * and the check fails with what to change.
 */

/** Printed by the probe when neither way works, as the original's image prints it. */
export const CONTAINED_LINE = 'Contained: cannot escape via CVE-2022-0492';

const VERDICT_PREFIX = 'HORDE_ESCAPE_PROBE_VERDICT';
const STEP_PREFIX = 'HORDE_ESCAPE_PROBE';

/**
 * Tries one hierarchy: `try.sh <mount options> <dir>`; exit 0 = release_agent written (escape),
 * 1 = mount refused, 2 = no directory, 3 = mounted, no release_agent at this root, 4 = write refused.
 */
const TRY_HIERARCHY = String.raw`d="$2"
mkdir -p "$d" || exit 2
mount -t cgroup -o "$1" cgroup "$d" 2>/dev/null || exit 1
rc=3
if [ -e "$d/release_agent" ]; then
  current=$(cat "$d/release_agent" 2>/dev/null)
  if (printf '%s\n' "$current" > "$d/release_agent") 2>/dev/null; then rc=0; else rc=4; fi
fi
umount "$d" 2>/dev/null
exit $rc`;

/** POSIX sh; runs with BusyBox as well as with util-linux + dash/bash. */
export const ESCAPE_PROBE_SCRIPT = String.raw`verdict() { echo "${VERDICT_PREFIX} $*"; [ "$1" = contained ] && echo "${CONTAINED_LINE}"; exit 0; }
step() { echo "${STEP_PREFIX} $*"; }
for tool in mount umount mkdir cat sed grep; do
  command -v "$tool" >/dev/null 2>&1 || verdict untestable "the check image has no $tool"
done
base=$(mktemp -d 2>/dev/null) || base=/tmp/horde-escape-probe.$$
mkdir -p "$base" || verdict untestable "cannot create a directory inside the container"
cat > "$base/try.sh" <<'TRY'
${TRY_HIERARCHY}
TRY
hierarchies=""
for h in $(sed -n 's/^[0-9]*:\([^:][^:]*\):.*/\1/p' /proc/self/cgroup); do
  case "$h" in name=*) h="none,$h" ;; esac
  hierarchies="$hierarchies $h"
done
hierarchies="$hierarchies rdma none,name=horde_escape_probe"
i=0
for h in $hierarchies; do
  i=$((i + 1))
  sh "$base/try.sh" "$h" "$base/d$i"; rc=$?
  step direct "$h" "$rc"
  [ "$rc" = 0 ] && verdict escapable direct "$h"
done
# CVE-2022-0492: first, may the container make a user namespace at all? (BusyBox's shell runs
# its own applet for a bare name, so util-linux's is looked for by path too.)
found=""
for u in unshare /usr/bin/unshare /bin/unshare /usr/sbin/unshare /sbin/unshare /usr/local/bin/unshare; do
  case "$u" in
    /*) [ -x "$u" ] || continue ;;
    *) command -v "$u" >/dev/null 2>&1 || continue ;;
  esac
  found="$found $u"
done
[ -n "$found" ] || verdict untestable "the check image has no unshare, so whether the container may create user namespaces cannot be tried"
userns=no
for u in $found; do "$u" -Ur true 2>/dev/null && { userns=yes; break; }; done
step userns "$userns"
[ "$userns" = no ] && verdict contained
# It may: try the mounts in new user + mount + cgroup namespaces (needs util-linux unshare -C).
cg=""
for u in $found; do "$u" --help 2>&1 | grep -q -- '--cgroup' && { cg="$u"; break; }; done
[ -n "$cg" ] || verdict untestable "user namespaces can be created in the container, and the check image has no unshare that can create a cgroup namespace (util-linux unshare -C) to try the rest"
step unshare "$cg"
for h in $hierarchies; do
  i=$((i + 1))
  "$cg" -UrmC sh "$base/try.sh" "$h" "$base/d$i" 2>/dev/null; rc=$?
  step userns "$h" "$rc"
  [ "$rc" = 0 ] && verdict escapable userns "$h"
done
verdict contained`;

export type ProbeVerdict =
  | { readonly kind: 'contained' }
  | { readonly kind: 'escapable'; readonly via: 'direct' | 'userns'; readonly hierarchy: string }
  | { readonly kind: 'untestable'; readonly reason: string };

export interface ProbeReport {
  /** Null when the probe printed no verdict (it did not run, or died). */
  readonly verdict: ProbeVerdict | null;
  /** Could the container create a user namespace? Null when the probe did not get that far. */
  readonly userNamespaces: boolean | null;
  /** Hierarchies the probe tried, each with the try's result code, `direct:memory=1`. */
  readonly attempts: readonly string[];
}

/** Reads the probe's stdout (its own lines only; anything else the image prints is ignored). */
export function parseProbeOutput(stdout: string): ProbeReport {
  let verdict: ProbeVerdict | null = null;
  let userNamespaces: boolean | null = null;
  const attempts: string[] = [];
  for (const line of stdout.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === VERDICT_PREFIX) {
      const [, kind, ...rest] = words;
      if (kind === 'contained') verdict = { kind };
      else if (kind === 'escapable' && (rest[0] === 'direct' || rest[0] === 'userns') && rest[1])
        verdict = { kind, via: rest[0], hierarchy: rest[1] };
      else if (kind === 'untestable') verdict = { kind, reason: rest.join(' ') };
    } else if (words[0] === STEP_PREFIX) {
      const [, what, subject, code] = words;
      if (what === 'userns' && code === undefined) userNamespaces = subject === 'yes';
      else if ((what === 'direct' || what === 'userns') && subject && code !== undefined) attempts.push(`${what}:${subject}=${code}`);
    }
  }
  return { verdict, userNamespaces, attempts };
}
