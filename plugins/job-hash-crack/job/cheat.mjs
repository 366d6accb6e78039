#!/usr/bin/env node
// TESTING AID, not a job: a stand-in for crack.mjs that skips the work and prints a made-up
// answer in the right shape. The devnet and the end-to-end tests point a "cheating" miner's
// process-runner mapping for the hash-crack image at this script, so the validator can be seen
// giving that miner nothing for its jobs.
import { createHash, randomBytes } from 'node:crypto';

process.stdout.write(`${createHash('sha256').update(randomBytes(32)).digest('hex')}\n`);
