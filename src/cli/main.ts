/**
 * The `kiln` command: a thin shell over the library. It resolves settings,
 * dispatches to a command, and is the only place that prints.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { MessagePort } from 'node:worker_threads';
import { KilnError } from '../errors/index.js';
import { UNCHANGED, fromSystemError } from '../errors/systemError.js';
import type { Invocation } from './command.js';
import { commandHelp, groupOf, generalHelp, groupHelp, optionError, unknownCommand } from './help.js';
import { colourLines, wantsColour } from './colour.js';
import { withPrefixOption } from './prefixInHints.js';
import { escapeForTerminal, escapeJsonText } from './escapeText.js';
import { GLOBAL_OPTIONS, optionRows } from './optionHelp.js';
import { findCommand } from './registry.js';
import { resolveSettings } from './settings.js';
import { kilnPath } from '../util/kilnRoot.js';

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_BUG = 70;
export const EXIT_INTERRUPTED = 130;
/** The version of what --json prints: the envelope, and the data of each command within it. */
export const JSON_FORMAT_VERSION = 1;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * An install worker thread's loop (installWorker.cts runs it from the bundle).
 * Loaded when called, so that a query does not load the install machinery.
 */
export async function serveInstallTasks(port: MessagePort): Promise<void> {
  (await import('../install/installWorkers.js')).serveInstallTasks(port);
}

function kilnVersion(): string {
  const manifest = JSON.parse(readFileSync(kilnPath('package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

export async function main(
  argv: string[],
  io = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  // Everything printed goes through here: names and paths from packages and indexes are shown, never obeyed.
  const colour = new Map<NodeJS.WritableStream, boolean>([
    [io.stdout, wantsColour(io.stdout, io.env)],
    [io.stderr, wantsColour(io.stderr, io.env)],
  ]);
  const write = (stream: NodeJS.WritableStream, text: string): void => {
    let safe = escapeForTerminal(text);
    if (colour.get(stream) === true) safe = colourLines(safe);
    stream.write(safe.endsWith('\n') ? safe : `${safe}\n`);
  };
  const given = [...argv];
  // The prefix named with --prefix: the command lines Kiln suggests name it too (prefixInHints.ts).
  let namedPrefix: string | undefined;
  const suggest = (text: string): string => (namedPrefix === undefined ? text : withPrefixOption(text, namedPrefix));
  // With --json, a program reads the error too: one JSON object on stderr (docs/commands.md).
  const reportError = (thrown: unknown): number => {
    const json = given.includes('--json');
    const writeJson = (code: string, message: string, hint: string | undefined): void =>
      write(
        io.stderr,
        escapeJsonText(
          JSON.stringify({
            formatVersion: JSON_FORMAT_VERSION,
            error: { code, message, ...(hint === undefined ? {} : { hint }) },
          }),
        ),
      );
    // What the machine did (permission denied, disk full) is said plainly, not as a bug.
    const error = fromSystemError(thrown) ?? thrown;
    if (error instanceof KilnError) {
      const hint = error.hint === undefined ? undefined : suggest(error.hint);
      if (json) writeJson(error.code, error.message, hint);
      else write(io.stderr, `kiln: error[${error.code}]: ${error.message}${hint ? `\nhint: ${hint}` : ''}`);
      return error.exitStatus ?? (error.code === 'E_USAGE' ? EXIT_USAGE : EXIT_ERROR);
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (json) writeJson('E_BUG', `internal error (this is a bug in Kiln, please report it): ${detail}`, undefined);
    else write(io.stderr, `kiln: internal error (this is a bug in Kiln, please report it):\n${detail}`);
    return EXIT_BUG;
  };
  // Ctrl-C (or a kill) while the command works: the line is cleared and the error said, then the process ends.
  // Whatever change had begun is rolled back (or, past its commit, completed) by the next command (docs/transactions.md).
  let clearProgress = (): void => undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    clearProgress();
    const status = reportError(
      new KilnError('E_ABORTED', `cannot go on: interrupted (${signal === 'SIGINT' ? 'Ctrl-C' : signal})`, {
        hint: UNCHANGED,
        exitStatus: 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15),
      }),
    );
    process.exit(status);
  };
  try {
    if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
      write(io.stdout, `kiln ${kilnVersion()}`);
      return 0;
    }
    if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help'))) {
      write(io.stdout, generalHelp());
      return 0;
    }
    // Global options may come before the command words: kiln --prefix DIR init.
    const leading: string[] = [];
    while (argv[0]?.startsWith('-')) {
      const option = argv[0];
      leading.push(option);
      argv = argv.slice(1);
      if (option === '--prefix' || option === '--password-file') {
        const value = argv[0];
        if (value === undefined || value.startsWith('-')) {
          throw new KilnError(
            'E_USAGE',
            `cannot run kiln: ${option} needs a value (${option === '--prefix' ? 'DIR' : 'FILE'})`,
            {
              hint: `write ${option} ${option === '--prefix' ? 'DIR' : 'FILE'} before the command, e.g. kiln --prefix ~/stack list`,
            },
          );
        }
        leading.push(value);
        argv = argv.slice(1);
      }
    }
    if (argv.length === 0) {
      if (leading.includes('--help') || leading.includes('-h')) {
        write(io.stdout, generalHelp());
        return 0;
      }
      throw new KilnError('E_USAGE', 'cannot run kiln: no command given', {
        hint: 'run "kiln help" for the list of commands',
      });
    }
    const helpFor = argv[0] === 'help';
    const words = helpFor ? argv.slice(1) : argv;
    const entry = findCommand(words);
    if (entry === undefined) {
      // A group alone asks for its commands: kiln remote --help, kiln help repo.
      const group = groupOf(words);
      const after = group === undefined ? undefined : words[group.split(' ').length];
      if (
        group !== undefined &&
        (helpFor || after === '--help' || after === '-h' || leading.includes('--help') || leading.includes('-h'))
      ) {
        write(io.stdout, groupHelp(group));
        return 0;
      }
      throw unknownCommand(words);
    }
    const command = await entry.load();
    if (helpFor) {
      write(io.stdout, commandHelp(command));
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({
        args: [...leading, ...words.slice(entry.words.length)],
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
        throw optionError(command, error);
      throw error;
    }
    const values = parsed.values as Invocation['values'];
    // An empty path (--prefix '', --prefix=) would quietly mean the current directory.
    for (const row of optionRows(command)) {
      const given = values[row.name];
      if (row.doc.path !== undefined && (given === '' || (Array.isArray(given) && given.includes('')))) {
        throw new KilnError('E_USAGE', `cannot run "kiln ${entry.words.join(' ')}": --${row.name} is empty`, {
          hint: `give --${row.name} ${row.doc.value ?? ''} a ${row.doc.path === 'directory' ? 'directory' : 'file'}; an empty one would mean the current directory`,
        });
      }
    }
    if (values['help'] === true) {
      write(io.stdout, commandHelp(command));
      return 0;
    }
    const settings = await resolveSettings({
      env: io.env,
      json: values['json'] === true,
      passwordFile: typeof values['password-file'] === 'string' ? values['password-file'] : undefined,
      stderrIsTTY: Boolean((io.stderr as NodeJS.WriteStream).isTTY),
      stdinIsTTY: Boolean(process.stdin.isTTY),
      prefix: typeof values['prefix'] === 'string' ? values['prefix'] : undefined,
      noWait: values['no-wait'] === true,
    });
    if (typeof values['prefix'] === 'string') namedPrefix = values['prefix'];
    let progressShown = false;
    const progress = (line: string | null): void => {
      if (!settings.progress) return;
      if (line === null) {
        if (progressShown) io.stderr.write('\r\x1b[K');
        progressShown = false;
        return;
      }
      io.stderr.write(`\r\x1b[K${escapeForTerminal(line)}`);
      progressShown = true;
    };
    const tell = (line: string): void => {
      progress(null);
      write(io.stderr, line);
    };
    const confirm = async (question: string): Promise<boolean> => {
      progress(null);
      if (!settings.interactive) return false;
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: io.stderr });
      // On a terminal readline takes Ctrl-C itself (no signal is sent) and Ctrl-D closes the input: both stop here.
      const stopped = (how: string, exitStatus: number): KilnError => {
        io.stderr.write('\n');
        return new KilnError('E_ABORTED', `cannot go on: ${how} at the question "${question}"`, {
          hint: 'nothing was changed',
          exitStatus,
        });
      };
      try {
        return await new Promise<boolean>((resolve, reject) => {
          rl.on('SIGINT', () => reject(stopped('interrupted (Ctrl-C)', EXIT_INTERRUPTED)));
          rl.on('close', () => reject(stopped('the input ended (Ctrl-D)', EXIT_ERROR)));
          rl.question(`${question} [Y/n] `).then((text) => {
            const answer = text.trim().toLowerCase();
            resolve(answer === '' || answer === 'y' || answer === 'yes');
          }, reject);
        });
      } finally {
        rl.removeAllListeners('close');
        rl.close();
      }
    };
    clearProgress = () => progress(null);
    if (command.handlesSignals !== true) for (const signal of SIGNALS) process.on(signal, onSignal);
    let output;
    try {
      output = await command.run({
        argv: given,
        positionals: parsed.positionals,
        values,
        settings,
        confirm,
        tell,
        progress,
      });
    } finally {
      progress(null);
    }
    // One envelope for every command's data: its format version says what a program may rely on (docs/commands.md).
    if (settings.json)
      write(
        io.stdout,
        escapeJsonText(JSON.stringify({ formatVersion: JSON_FORMAT_VERSION, data: output.data }, null, 2)),
      );
    else if (output.text !== undefined && output.text !== '')
      write(
        io.stdout,
        output.text
          .split('\n')
          .map((line) => (line.startsWith('next: ') ? suggest(line) : line))
          .join('\n'),
      );
    for (const note of output.notes ?? []) write(io.stderr, suggest(note));
    return output.exitCode ?? 0;
  } catch (thrown) {
    return reportError(thrown);
  } finally {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  }
}
