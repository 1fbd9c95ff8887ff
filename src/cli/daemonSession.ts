/**
 * The CLI through kilnd: when a user who is not root changes a prefix they
 * cannot write (the system prefix), and its kilnd listens, `kiln install`,
 * `remove`, `upgrade`, `sync` and `remote add` send the request there and
 * show the same plan, question and progress as a direct run; a package file
 * given to `install` is sent as bytes (docs/kilnd.md).
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { openPackage } from '../format/index.js';
import { join } from 'node:path';
import type { ClientHandlers } from '../daemon/daemonClient.js';
import { askDaemon } from '../daemon/daemonClient.js';
import type { Activity } from '../daemon/kilnd.js';
import type { Verb } from '../daemon/policy.js';
import { socketPathOf } from '../daemon/protocol.js';
import { KilnError } from '../errors/index.js';
import type { ChangeResult } from '../install/index.js';
import { noMorePositionals, positional, usageError } from './args.js';
import type { Command, CommandOutput, Invocation } from './command.js';
import { changeOutput, renderPlan, reporter } from './prefixSession.js';

/** The kilnd socket to use for this invocation's prefix, or undefined to change the prefix directly. */
export function daemonSocket(invocation: Invocation): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  const socket = socketPathOf(invocation.settings.prefix);
  if (!existsSync(socket)) return undefined;
  try {
    accessSync(join(invocation.settings.prefix, 'var', 'lib', 'kiln'), constants.W_OK);
    return undefined;
  } catch {
    return socket;
  }
}

/** Runs a change through kilnd: the request, its plan and question, its progress, its outcome. */
export async function daemonChange(
  invocation: Invocation,
  socket: string,
  verb: Verb,
  packages: readonly string[],
  /** The rest of the request: a remote's name (sync, add-remote), and what add-remote adds. */
  extra: { remote?: string; url?: string; keys?: string[]; priority?: number; mirrors?: string[] } = {},
  options: {
    /** install: package files, whose bytes this process reads and sends (kilnd never opens a client's path). */
    packageFiles?: readonly string[];
    /** The output of the activity's result, as the direct run prints its own (sync). */
    render?: (result: unknown) => CommandOutput;
  } = {},
): Promise<CommandOutput> {
  const packageFiles = options.packageFiles ?? [];
  // Each file declared by the package its metadata names and by its size; kilnd checks both on what it receives.
  const declared = await Promise.all(
    packageFiles.map(async (file) => ({ name: (await openPackage(file)).metadata.name, size: statSync(file).size })),
  );
  const yes = invocation.values['yes'] === true;
  const dryRun = invocation.values['dry-run'] === true;
  const detach = invocation.values['detach'] === true;
  const handlers: ClientHandlers = {
    accepted: (id) => invocation.tell(`kilnd: activity ${id}${detach ? ` (detached: kiln activity wait ${id})` : ''}`),
    event: reporter(invocation),
    plan: async (plan, needsAnswer) => {
      if (!needsAnswer) {
        if (invocation.settings.progress) invocation.tell(renderPlan(plan));
        return true;
      }
      if (!invocation.settings.interactive)
        throw new KilnError(
          'E_CONFIRM',
          `cannot change prefix ${invocation.settings.prefix} without confirmation: there is no terminal to ask`,
          { hint: 'pass -y to go ahead without asking, or --dry-run to only see the plan' },
        );
      invocation.tell(renderPlan(plan));
      return invocation.confirm('Proceed?');
    },
  };
  const answer = await askDaemon(
    socket,
    {
      op: 'submit',
      verb,
      packages,
      ...extra,
      ...(declared.length === 0 ? {} : { files: declared }),
      yes: yes || detach,
      dryRun,
      detach,
    },
    handlers,
    packageFiles,
  );
  if ('detached' in answer) return { data: { activity: answer.id, detached: true }, text: `activity ${answer.id}` };
  // A failure reads as the direct run's would: its code and message, on stderr.
  if (answer.state === 'failed')
    throw new KilnError(
      /^E_[A-Z_]+$/.test(answer.errorCode ?? '') ? (answer.errorCode as 'E_DAEMON') : 'E_DAEMON',
      answer.error ?? `activity ${answer.id} failed`,
      { hint: `kiln activity show ${answer.id} shows what it asked for` },
    );
  if (answer.state === 'cancelled')
    throw new KilnError('E_ABORTED', `activity ${answer.id}: ${answer.error ?? 'cancelled'}`, {
      hint: 'nothing was changed',
    });
  if (options.render !== undefined) return options.render(answer.result);
  // The direct run's output, --json included, with the activity's number beside it.
  const result = answer.result as Partial<ChangeResult> | null;
  if (result !== null && result.plan !== undefined) {
    const output = changeOutput(result as ChangeResult, invocation);
    return { ...output, data: { ...result, activity: answer.id } };
  }
  return activityOutput(answer, invocation);
}

/** An activity as a command's output: its change rendered as a direct run's, and exit 1 when it failed. */
export function activityOutput(activity: Activity, invocation?: Invocation): CommandOutput {
  const failed = activity.state === 'failed';
  const result = activity.result as Partial<ChangeResult> | null;
  if (invocation !== undefined && result !== null && result.plan !== undefined && !failed) {
    const output = changeOutput(result as ChangeResult, invocation);
    return { ...output, data: activity };
  }
  const added = result as { added?: string; url?: string; priority?: number } | null;
  if (!failed && typeof added?.added === 'string')
    return {
      data: activity,
      text: `added remote ${added.added} (${added.url}), priority ${added.priority} (kilnd activity ${activity.id})\nnext: kiln sync`,
    };
  const lines = [
    `activity ${activity.id}: ${activity.state}`,
    `  ${activity.user} asked: ${activity.verb} ${activity.packages.join(' ')}${activity.remote === null ? '' : ` (remote ${activity.remote})`}`,
    `  queued ${activity.createdAt}${activity.finishedAt === null ? '' : `, ended ${activity.finishedAt}`}`,
  ];
  if (activity.error !== null) lines.push(`  ${activity.error.split('\n')[0]}`);
  return { data: activity, text: lines.join('\n'), ...(failed ? { exitCode: 1 } : {}) };
}

/** `kiln activity show|wait|cancel ID`: ask kilnd about one activity (wait shows its progress as it runs). */
export async function askActivity(
  invocation: Invocation,
  op: 'show' | 'attach' | 'cancel',
  id: number,
): Promise<CommandOutput> {
  // The prefix's kilnd; else the system's, so that `kiln activity wait N` finds what `kiln --prefix / install` queued.
  const own = socketPathOf(invocation.settings.prefix);
  const socket = (invocation.values['socket'] as string | undefined) ?? (existsSync(own) ? own : socketPathOf('/'));
  const answer = await askDaemon(socket, { op, activity: id }, op === 'attach' ? { event: reporter(invocation) } : {});
  if ('detached' in answer) throw new KilnError('E_DAEMON', `kilnd answered activity ${id} with a new submission`);
  return activityOutput(answer, invocation);
}

/** The command `kiln activity WORD ID`, which asks kilnd `op` about activity ID. */
export function activityCommand(
  word: string,
  op: 'show' | 'attach' | 'cancel',
  summary: string,
  text: string,
): Command {
  const command: Command = {
    words: ['activity', word],
    summary,
    usage: [
      `kiln activity ${word} ID [--prefix DIR] [--socket PATH] [--json]`,
      text,
      "kilnd is the prefix's (PREFIX/run/kiln/kilnd.sock), else the system's (/run/kiln/kilnd.sock), unless --socket.",
      `Example: kiln activity ${word} 12`,
    ].join('\n'),
    options: { socket: { type: 'string' } },
    async run(invocation) {
      const id = positional(invocation, command, 0, 'ID');
      noMorePositionals(invocation, command, 1);
      if (!/^\d{1,15}$/.test(id)) throw usageError(command, `ID is an activity's number, not "${id}"`);
      return askActivity(invocation, op, Number(id));
    },
  };
  return command;
}
