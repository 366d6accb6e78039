import { createInterface } from 'node:readline/promises';
import { CliError } from './errors.mjs';

/**
 * Questions on a terminal (or any stream), with node:readline only. Lines are read through the
 * interface's async iterator, which buffers them, so answers piped in ahead of the questions (a
 * script, a test) are not lost between two questions.
 */

/**
 * @typedef {object} Prompter
 * @property {(question: string, defaultAnswer?: string) => Promise<string>} ask
 * @property {(question: string, choices: readonly { value: string, label: string }[]) => Promise<string>} choose
 * @property {(question: string, defaultAnswer: boolean) => Promise<boolean>} confirm
 * @property {(message: string) => void} say  prints a line (an explanation between questions)
 * @property {() => void} close
 */

/**
 * @param {NodeJS.ReadableStream} input
 * @param {NodeJS.WritableStream} output
 * @returns {Prompter}
 */
export function createPrompter(input, output) {
  const rl = createInterface({ input, output, terminal: Boolean(/** @type {{ isTTY?: boolean }} */ (input).isTTY) });
  const lines = rl[Symbol.asyncIterator]();
  // Ctrl-C on a terminal: stop asking, like an empty input stream does.
  let interrupted = false;
  rl.on('SIGINT', () => {
    interrupted = true;
    rl.close();
  });

  /** @param {string} text */
  async function line(text) {
    output.write(text);
    const next = await lines.next();
    if (next.done || interrupted) {
      output.write('\n');
      throw new CliError('CANCELLED', 'Cancelled: no answer (input closed).');
    }
    return next.value.trim();
  }

  return {
    async ask(question, defaultAnswer) {
      const answer = await line(defaultAnswer ? `${question} (${defaultAnswer}): ` : `${question}: `);
      return answer === '' ? (defaultAnswer ?? '') : answer;
    },
    async choose(question, choices) {
      const menu = choices.map((choice, index) => `  ${index + 1}) ${choice.label}`).join('\n');
      output.write(`${question}\n${menu}\n`);
      for (;;) {
        const answer = await line(`Number or name (1-${choices.length}): `);
        const byNumber = choices[Number(answer) - 1];
        const byName = choices.find((choice) => choice.value === answer);
        const picked = /^[0-9]+$/.test(answer) ? byNumber : byName;
        if (picked) return picked.value;
        output.write(`"${answer}" is not one of the choices.\n`);
      }
    },
    async confirm(question, defaultAnswer) {
      const answer = (await line(`${question} ${defaultAnswer ? '(Y/n)' : '(y/N)'}: `)).toLowerCase();
      if (answer === '') return defaultAnswer;
      return answer === 'y' || answer === 'yes';
    },
    say(message) {
      output.write(`${message}\n`);
    },
    close() {
      rl.close();
    },
  };
}
