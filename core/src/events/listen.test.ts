import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { listen } from './listen.js';

interface Events {
  ping: [number];
  pong: [];
}

describe('listen', () => {
  it('adds one listener per event and removes exactly those, leaving others alone', () => {
    const emitter = new EventEmitter<Events>();
    const seen: string[] = [];
    const other = () => seen.push('other');
    emitter.on('pong', other);
    const stop = listen(emitter, { ping: (n) => seen.push(`ping ${n}`), pong: () => seen.push('pong') });
    emitter.emit('ping', 1);
    emitter.emit('pong');
    stop();
    emitter.emit('ping', 2);
    emitter.emit('pong');
    expect(seen).toEqual(['ping 1', 'other', 'pong', 'other']);
    expect(emitter.listenerCount('ping')).toBe(0);
    expect(emitter.listenerCount('pong')).toBe(1);
  });
});
