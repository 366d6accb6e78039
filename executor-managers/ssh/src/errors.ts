import { defineError } from '@horde/core';

/** No host of the requested class is free, or the class is not configured. */
export class NoFreeHostError extends defineError('HORDE_SSH_NO_FREE_HOST') {}
