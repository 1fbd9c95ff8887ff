/**
 * What every prefix command shares: opening the prefix from the resolved
 * settings with a reporter that renders events (progress on a terminal,
 * notices always), and showing and confirming a plan.
 */
import { shellLine } from '../util/shellQuote.js';
import { formatSettings } from '../solver/problem.js';
import { KilnError } from '../errors/index.js';
import type { ChangeOptions, ChangeResult, PlannedChange, Prefix, PrefixEvent } from '../install/index.js';
import { openPrefix } from '../install/Prefix.js';
import type { Invocation } from './command.js';
import { bytes, table } from './render.js';
import { waitingLine } from './lockWaiting.js';
import { own } from '../util/dict.js';

export function reporter(invocation: Invocation): (event: PrefixEvent) => void {
  let downloadStarted: number | undefined;
  return (event) => {
    switch (event.kind) {
      case 'waiting':
        invocation.tell(waitingLine(event.holderPid, event.lockPath));
        break;
      case 'recovered':
        invocation.tell(
          event.outcome === 'discarded'
            ? 'kiln: removed what an interrupted transaction had staged (nothing in the prefix had changed)'
            : `kiln: an interrupted transaction (${event.id}) was ${event.outcome === 'completed' ? 'completed' : 'rolled back'}`,
        );
        break;
      case 'download': {
        // Progress is for a person at a terminal: off one, nothing is printed.
        if (!invocation.settings.progress || event.total === 0) break;
        downloadStarted ??= performance.now();
        if (event.finished !== undefined) {
          const { label, bytes: size, seconds } = event.finished;
          invocation.tell(`  downloaded ${label}  ${bytes(size)} in ${duration(seconds)}${rate(size, seconds)}`);
        }
        const elapsed = (performance.now() - downloadStarted) / 1000;
        const left = event.totalBytes - event.receivedBytes;
        const speed = elapsed > 0.5 ? event.receivedBytes / elapsed : 0;
        invocation.progress(
          `downloading ${event.done}/${event.total} packages${event.cached > 0 ? ` (${event.cached} cached)` : ''}, ${bytes(event.receivedBytes)} of ${bytes(event.totalBytes)} ${bar(event.totalBytes === 0 ? 1 : event.receivedBytes / event.totalBytes)}${speed > 0 ? ` ${bytes(Math.round(speed))}/s, ${duration(left / speed)} left` : ''}`,
        );
        break;
      }
      case 'stage':
        invocation.progress(
          `unpacking ${event.name} (${event.index + 1}/${event.total}) ${bar((event.index + 1) / event.total)}`,
        );
        break;
      case 'commit':
        invocation.progress(`committing ${event.operations} file operations`);
        break;
      case 'note':
        invocation.tell(`note: ${event.message}`);
        break;
    }
  };
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function rate(size: number, seconds: number): string {
  return seconds > 0.05 ? ` (${bytes(Math.round(size / seconds))}/s)` : '';
}

function bar(fraction: number): string {
  const width = 24;
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export async function withPrefix<T>(invocation: Invocation, fn: (prefix: Prefix) => Promise<T>): Promise<T> {
  const { settings } = invocation;
  const prefix = await openPrefix(settings.prefix, {
    now: settings.now,
    wait: settings.wait,
    reporter: reporter(invocation),
    ...(settings.killAtStep === undefined ? {} : { killAtStep: settings.killAtStep }),
    ...(process.env['KILN_CACHE'] ? { cache: process.env['KILN_CACHE'] } : {}),
  });
  try {
    return await fn(prefix);
  } finally {
    prefix.close();
  }
}

export function renderPlan(plan: PlannedChange): string {
  const rows = plan.actions.map((action) => [
    `  ${action.kind}`,
    action.name,
    action.from !== null && action.to !== null ? `${action.from} -> ${action.to}` : (action.to ?? action.from ?? ''),
    optionsColumn(action.options, action.optionsBefore),
    action.remote === null ? '' : `(${action.remote})`,
    action.download > 0 ? bytes(action.download) : action.kind === 'remove' ? '' : 'cached',
    // The first clause of the resolver's reason: who needs it ("you asked for it", "nginx needs it").
    action.why === null ? '' : (action.why.split('; ')[0] ?? ''),
  ]);
  const counts = new Map<string, number>();
  for (const action of plan.actions) counts.set(action.kind, (counts.get(action.kind) ?? 0) + 1);
  const summary = [...(plan.builds.length > 0 ? [['build', plan.builds.length] as const] : []), ...counts]
    .map(([kind, count]) => `${count} to ${kind}`)
    .join(', ');
  const buildRows = plan.builds.map((build) => [
    `  build`,
    build.name,
    build.version,
    optionsColumn(build.options, null),
    `(recipe ${build.recipe})`,
    '',
    build.why,
  ]);
  const lines = rows.length + buildRows.length > 0 ? [table([...buildRows, ...rows])] : [];
  for (const change of plan.reasonChanges) lines.push(`  mark ${change.name} as ${change.reason}`);
  const sign = plan.sizeChange < 0 ? '-' : '+';
  lines.push(
    `${summary || 'no package changes'}; download ${bytes(plan.downloadBytes)}; installed size ${sign}${bytes(Math.abs(plan.sizeChange))}`,
  );
  return lines.join('\n');
}

/** The options of the variant placed, `[+ssl,-uwsgi]`; when they change, `[-uwsgi -> +uwsgi]` with only what changes. */
function optionsColumn(
  options: Readonly<Record<string, boolean>>,
  before: Readonly<Record<string, boolean>> | null,
): string {
  if (before !== null) {
    const changed = [...new Set([...Object.keys(options), ...Object.keys(before)])]
      .sort()
      .filter((key) => own(options, key) !== own(before, key));
    const side = (of: Readonly<Record<string, boolean>>): string =>
      changed.map((key) => (of[key] === undefined ? `no ${key}` : `${of[key] ? '+' : '-'}${key}`)).join(',');
    if (changed.length > 0) return `[${side(before)} -> ${side(options)}] options change`;
  }
  return Object.keys(options).length === 0 ? '' : `[${formatSettings(options)}]`;
}

/** Change options for the CLI: --dry-run, -y, and a question on the terminal otherwise. */
export function changeOptions(invocation: Invocation): ChangeOptions {
  const yes = invocation.values['yes'] === true;
  const allowed = invocation.values['allow-advisory'];
  return {
    ...(Array.isArray(allowed) && allowed.length > 0
      ? { allowAdvisories: allowed.filter((id): id is string => typeof id === 'string') }
      : {}),
    dryRun: invocation.values['dry-run'] === true,
    // The history keeps the command line as typed, quoted so that it can be run again.
    command: `kiln ${shellLine(invocation.argv)}`,
    confirm: async (plan) => {
      if (yes) {
        // On a terminal the plan is shown before anything is done, with -y too; off one, it is the output.
        if (invocation.settings.progress) {
          invocation.tell(renderPlan(plan));
          planShown.add(invocation);
        }
        return true;
      }
      if (!invocation.settings.interactive) {
        throw new KilnError(
          'E_CONFIRM',
          `cannot change prefix ${invocation.settings.prefix} without confirmation: there is no terminal to ask`,
          {
            hint: 'pass -y to go ahead without asking, or --dry-run to only see the plan',
          },
        );
      }
      invocation.tell(renderPlan(plan));
      planShown.add(invocation);
      return invocation.confirm('Proceed?');
    },
  };
}

/** Invocations whose plan was shown before the change: their output does not show it again. */
const planShown = new WeakSet<Invocation>();

export const CHANGE_OPTIONS = {
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  detach: { type: 'boolean' },
} as const;

/** For commands that place packages (install, upgrade): the advisories to install past. */
export const ADVISORY_OPTIONS = {
  'allow-advisory': { type: 'string', multiple: true },
} as const;

export function changeOutput(
  result: ChangeResult,
  invocation: Invocation,
): { data: unknown; text: string; notes: string[] } {
  const dryRun = invocation.values['dry-run'] === true;
  const nothing =
    result.plan.builds.length === 0 && result.plan.actions.length === 0 && result.plan.reasonChanges.length === 0;
  const outcome = result.applied
    ? `done (transaction ${result.transaction})`
    : dryRun
      ? 'dry run: nothing was changed'
      : '';
  const text = nothing ? '' : planShown.has(invocation) ? outcome : `${renderPlan(result.plan)}\n${outcome}`.trimEnd();
  // "nothing to do" is a message, not data: stderr (stdout stays empty for scripts).
  const notes = [...(nothing ? ['nothing to do'] : []), ...result.notes.map((note) => `note: ${note}`)];
  return { data: result, text, notes };
}
