/**
 * Preloaded (`node --import`) into every process the devnet starts, which it starts with an IPC
 * channel: when the channel closes because the devnet is gone (even killed with SIGKILL, when it
 * cannot stop anybody), the process sends itself SIGTERM and shuts down as on Ctrl-C. So nothing
 * outlives a devnet. The channel is unreferenced: it never keeps a process alive by itself.
 */
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

export {};
