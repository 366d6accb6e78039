import { describe, expect, it } from 'vitest';
import { CONTAINED_LINE, ESCAPE_PROBE_SCRIPT, parseProbeOutput } from './escape-probe.js';

describe('parseProbeOutput', () => {
  it('reads a contained run, its attempts and the user-namespace answer', () => {
    const report = parseProbeOutput(
      [
        'HORDE_ESCAPE_PROBE direct none,name=systemd 1',
        'HORDE_ESCAPE_PROBE direct memory 1',
        'HORDE_ESCAPE_PROBE userns no',
        'HORDE_ESCAPE_PROBE_VERDICT contained',
        CONTAINED_LINE,
        '',
      ].join('\n'),
    );
    expect(report).toEqual({
      verdict: { kind: 'contained' },
      userNamespaces: false,
      attempts: ['direct:none,name=systemd=1', 'direct:memory=1'],
    });
  });

  it('reads an escape and how it was found', () => {
    const direct = parseProbeOutput('HORDE_ESCAPE_PROBE direct memory 0\nHORDE_ESCAPE_PROBE_VERDICT escapable direct memory\n');
    expect(direct.verdict).toEqual({ kind: 'escapable', via: 'direct', hierarchy: 'memory' });
    const userns = parseProbeOutput(
      'HORDE_ESCAPE_PROBE userns yes\nHORDE_ESCAPE_PROBE userns rdma 0\nHORDE_ESCAPE_PROBE_VERDICT escapable userns rdma\n',
    );
    expect(userns).toEqual({
      verdict: { kind: 'escapable', via: 'userns', hierarchy: 'rdma' },
      userNamespaces: true,
      attempts: ['userns:rdma=0'],
    });
  });

  it('reads an untestable run with its reason', () => {
    const report = parseProbeOutput('HORDE_ESCAPE_PROBE_VERDICT untestable the check image has no mount\n');
    expect(report.verdict).toEqual({ kind: 'untestable', reason: 'the check image has no mount' });
  });

  it("gives no verdict for output that is not the probe's (a dead probe, an image that prints its own lines)", () => {
    expect(parseProbeOutput('').verdict).toBeNull();
    expect(parseProbeOutput('Contained: cannot escape via CVE-2022-0492\nVERDICT contained\n').verdict).toBeNull();
    expect(parseProbeOutput('HORDE_ESCAPE_PROBE_VERDICT escapable sideways memory\n').verdict).toBeNull();
  });

  it("the script prints the original image's line only on its contained verdict", () => {
    expect(ESCAPE_PROBE_SCRIPT).toContain(`[ "$1" = contained ] && echo "${CONTAINED_LINE}"`);
  });
});
