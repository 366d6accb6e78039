import { describe, expect, it } from 'vitest';
import { intToIp, ipToInt } from './ip.js';

describe('axon ip encoding', () => {
  it('encodes IPv4 as the big-endian u32 value', () => {
    expect(ipToInt('1.2.3.4')).toEqual({ ip: 0x01020304n, ipType: 4 });
    expect(ipToInt('255.255.255.255').ip).toBe(4294967295n);
    expect(intToIp(0x01020304n, 4)).toBe('1.2.3.4');
  });

  it('encodes IPv6, including :: and dotted tails', () => {
    expect(ipToInt('::1')).toEqual({ ip: 1n, ipType: 6 });
    expect(ipToInt('2001:db8::8a2e:370:7334').ip).toBe(0x20010db8000000000000_8a2e03707334n);
    expect(ipToInt('::ffff:1.2.3.4').ip).toBe(0xffff01020304n);
    expect(intToIp(0x20010db8000000000000_8a2e03707334n, 6)).toBe('2001:db8::8a2e:370:7334');
    expect(intToIp(1n, 6)).toBe('::1');
  });

  it('refuses text that is not an address', () => {
    expect(() => ipToInt('example.com')).toThrow(/not an IPv4 or IPv6/);
    expect(() => intToIp(1n, 5)).toThrow(/4 or 6/);
  });
});
