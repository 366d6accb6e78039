import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type TestHttpServer } from '../../../test/support/http-server.js';
import { EgressConfigError, EgressPolicy, EgressRefusedError, fetchWithEgress, validateEgressAllowlist } from './egress.js';

const noOwn = { ownAddresses: [] as string[] };

describe('EgressPolicy', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '169.254.169.254',
    '10.0.0.5',
    '172.16.9.9',
    '192.168.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    'fd00::1',
    'fd00:ec2::254',
    'fe80::1',
    '64:ff9b::a9fe:a9fe',
  ])('refuses %s by default', (address) => {
    expect(new EgressPolicy(noOwn).refusal(address)).toMatch(/range/);
  });

  it.each(['1.1.1.1', '8.8.8.8', '2606:4700:4700::1111'])('allows the public address %s', (address) => {
    expect(new EgressPolicy(noOwn).refusal(address)).toBeNull();
  });

  it("refuses the machine's own addresses, public ones included", () => {
    expect(new EgressPolicy({ ownAddresses: ['203.0.113.7'] }).refusal('203.0.113.7')).toMatch(/this machine/);
  });

  it('opens exactly what the allowlist names', () => {
    const policy = new EgressPolicy({ allow: ['127.0.0.1/32', '10.20.0.0/16'], ownAddresses: [] });
    expect(policy.refusal('127.0.0.1')).toBeNull();
    expect(policy.refusal('10.20.3.4')).toBeNull();
    expect(policy.refusal('127.0.0.2')).not.toBeNull();
    expect(policy.refusal('10.21.0.1')).not.toBeNull();
  });

  it('checks every address a name resolves to, after resolution', async () => {
    const policy = new EgressPolicy({
      ...noOwn,
      lookup: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
    });
    await expect(policy.check(new URL('http://innocent.example/file'))).rejects.toThrow(/169\.254\.169\.254/);
    const unresolvable = new EgressPolicy({ ...noOwn, lookup: async () => Promise.reject(new Error('ENOTFOUND')) });
    await expect(unresolvable.check(new URL('http://nowhere.invalid/'))).rejects.toBeInstanceOf(EgressRefusedError);
  });

  it('refuses schemes other than http and https', async () => {
    await expect(new EgressPolicy(noOwn).check(new URL('file:///etc/passwd'))).rejects.toThrow(/http and https only/);
  });

  it('rejects allowlist entries that are not addresses or CIDRs with a typed error', () => {
    expect(() => validateEgressAllowlist(['storage.internal'])).toThrow(EgressConfigError);
    expect(() => validateEgressAllowlist(['10.0.0.0/33'])).toThrow(/prefix/);
    expect(() => validateEgressAllowlist(['10.0.0.0/8', '::1'])).not.toThrow();
  });
});

describe('fetchWithEgress', () => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startHttpServer((req, res) => {
      if (req.url === '/to-metadata') res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/iam' }).end();
      else if (req.url === '/to-self') res.writeHead(302, { location: '/ok' }).end();
      else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else res.writeHead(200).end('ok');
    });
  });
  afterAll(() => server.close());

  const loopback = () => new EgressPolicy({ allow: ['127.0.0.1/32'], ownAddresses: [] });

  it('refuses a loopback URL by default without connecting', async () => {
    const before = server.requests.length;
    await expect(fetchWithEgress(new EgressPolicy(noOwn), `${server.url}/ok`)).rejects.toThrow(/loopback/);
    expect(server.requests.length).toBe(before);
  });

  it('checks each redirect hop: an allowed server cannot bounce the request to the metadata address', async () => {
    await expect(fetchWithEgress(loopback(), `${server.url}/to-metadata`, { method: 'PUT', body: 'secret' })).rejects.toThrow(
      /169\.254\.169\.254/,
    );
  });

  it('follows redirects between allowed addresses and stops a redirect loop', async () => {
    expect(await (await fetchWithEgress(loopback(), `${server.url}/to-self`)).text()).toBe('ok');
    await expect(fetchWithEgress(loopback(), `${server.url}/loop`)).rejects.toThrow(/redirects/);
  });
});
