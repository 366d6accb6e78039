// The agent's start: it connects before it makes its runner (a cold job waits for the connection,
// and dockerode is slow to load), and a runner that cannot be made is a horde failure, not a crash.
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { JobRunner } from '../../contracts/index.js';
import { silentLogger } from '../../logging/index.js';
import { ProcessJobRunner } from '../runners/process.js';
import { JobRunnerError } from '../runners/errors.js';
import { runExecutorAgent } from './run-executor-agent.js';

describe('runExecutorAgent start', () => {
  let server: WebSocketServer;
  let url: string;
  const events: string[] = [];
  beforeEach(async () => {
    events.length = 0;
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
    server.on('connection', (socket) => {
      events.push('connected');
      socket.on('close', () => events.push('closed'));
      // Refuse the token, so that an agent that got this far ends.
      socket.send(JSON.stringify({ message_type: 'GenericError', details: 'No job waiting for token' }));
    });
  });
  afterEach(() => {
    server.close();
  });

  it('makes its runner only once the connection to the miner is open', async () => {
    const outcome = await runExecutorAgent({
      minerUrl: url,
      token: 't',
      logger: silentLogger(),
      runner: async (): Promise<JobRunner> => {
        events.push('runner made');
        return new ProcessJobRunner({ images: {}, logger: silentLogger() });
      },
    });
    expect(events.slice(0, 2)).toEqual(['connected', 'runner made']);
    expect(outcome).toMatchObject({ status: 'horde_failed' });
  });

  it('reports a runner that cannot be made as a horde failure and closes the connection', async () => {
    const outcome = await runExecutorAgent({
      minerUrl: url,
      token: 't',
      logger: silentLogger(),
      runner: async () => {
        throw new JobRunnerError('the Docker engine socket is not there');
      },
    });
    expect(outcome).toEqual({
      status: 'horde_failed',
      reason: 'executor_failed',
      stage: 'executor_startup',
      message: 'the Docker engine socket is not there',
    });
    for (let i = 0; i < 50 && !events.includes('closed'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toContain('closed');
  });
});
