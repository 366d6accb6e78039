// Child process of the miner-validators benchmark: the validators (other machines), so that their
// signing and sockets are not counted as the miner's. Driven over IPC by run.mjs:
//   ← { url, minerHotkey, validators, seconds, executorClass, image }
//   → { connected }   then per phase  ← { perValidatorRate }  → { latencies, declined, errors, elapsedS, validatorsCpuShare }
// perValidatorRate 0: closed loop (the next job as soon as the last is answered: saturation);
// otherwise each validator sends that many jobs per second, answered or not (a steady load).
import { join } from 'node:path';
import { DIST } from '../lib/report.mjs';
import { BenchValidator } from '../lib/validator.mjs';

const { loadHotkey } = await import(join(DIST, 'keys/index.js'));

process.once('message', async (setup) => {
  const clients = [];
  for (let i = 0; i < setup.validators; i++) {
    const hotkey = await loadHotkey({ uri: `//BenchValidator${i}` });
    clients.push(await BenchValidator.connect(setup.url, hotkey, setup.minerHotkey));
  }
  process.send({ connected: clients.length });
  process.on('message', async ({ perValidatorRate }) => {
    const latencies = [];
    let declined = 0;
    let errors = 0;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + setup.seconds * 1000;
    const one = async (client) => {
      const { jobUuid, sentAt } = client.initialJobRequest({ executorClass: setup.executorClass, image: setup.image });
      try {
        const { at } = await client.wait('V0AcceptJobRequest', jobUuid, 10_000);
        latencies.push(at - sentAt);
      } catch (error) {
        if (error.reply?.message_type === 'V0DeclineJobRequest') declined += 1;
        else errors += 1;
      }
    };
    await Promise.all(
      clients.map(async (client, i) => {
        if (perValidatorRate === 0) {
          while (performance.now() < deadline) await one(client);
          return;
        }
        const interval = 1000 / perValidatorRate;
        // Spread the validators over the interval, as independent machines would be.
        await new Promise((resolve) => setTimeout(resolve, (interval * i) / clients.length));
        const sent = [];
        while (performance.now() < deadline) {
          sent.push(one(client));
          await new Promise((resolve) => setTimeout(resolve, interval));
        }
        await Promise.all(sent);
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    process.send({ latencies, declined, errors, elapsedS, validatorsCpuShare: (cpu.user + cpu.system) / 1e6 / elapsedS });
  });
  process.once('disconnect', () => {
    for (const client of clients) client.close();
    process.exit(0);
  });
});
