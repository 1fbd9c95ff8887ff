import { join } from 'node:path';
import { callerNamed, decide, isVerb, readPolicy, VERBS } from '../../daemon/policy.js';
import { positional, stringOption, usageError } from '../args.js';
import type { Command } from '../command.js';

/** The policy file of a prefix: PREFIX/etc/kiln/policy.toml (/etc/kiln/policy.toml for /). */
export function policyPath(prefix: string): string {
  return join(prefix, 'etc', 'kiln', 'policy.toml');
}

const command: Command = {
  words: ['policy', 'check'],
  summary: "say whether kilnd's policy lets a user do something to the prefix, and which rule decides",
  usage: [
    'kiln policy check USER VERB [NAME...] [--remote NAME] [--policy FILE] [--json]',
    `VERB is one of ${VERBS.join(', ')}. USER is a name or a numeric uid, with the groups the account database gives it.`,
    "The policy is the prefix's etc/kiln/policy.toml (/etc/kiln/policy.toml for /) unless --policy names one. Exit status 0",
    'when allowed, 1 when denied.',
    'Example: kiln policy check alice install nginx --remote main --prefix /',
  ].join('\n'),
  options: { remote: { type: 'string' }, policy: { type: 'string' } },
  async run(invocation) {
    const user = positional(invocation, command, 0, 'USER');
    const verb = positional(invocation, command, 1, 'VERB');
    if (!isVerb(verb)) throw usageError(command, `VERB is one of ${VERBS.join(', ')}, not "${verb}"`);
    const packages = invocation.positionals.slice(2);
    const remote = stringOption(invocation, 'remote');
    const policy = await readPolicy(stringOption(invocation, 'policy') ?? policyPath(invocation.settings.prefix));
    const caller = await callerNamed(user);
    const decision = decide(policy, caller, { verb, packages, ...(remote === undefined ? {} : { remote }) });
    return {
      data: { caller, verb, packages, ...(remote === undefined ? {} : { remote }), ...decision },
      text: `${decision.allowed ? 'allowed' : 'denied'}: ${decision.reason}`,
      exitCode: decision.allowed ? 0 : 1,
    };
  },
};

export default command;
