import { HordeError } from '@horde/core';

/** No host of the requested class is free, or the class is not configured. */
export class NoFreeHostError extends HordeError {
  constructor(message: string) {
    super('SSH_NO_FREE_HOST', message);
  }
}
