/** Who owns a path, as a person would name them: `alice (uid 1000)`, or `uid 1000` when /etc/passwd does not say. */
import { readFileSync, statSync } from 'node:fs';

export function ownerName(path: string): string | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  let name: string | undefined;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[2] === String(stat.uid)) {
        name = fields[0];
        break;
      }
    }
  } catch {
    // No readable /etc/passwd: the number alone.
  }
  return name === undefined || name === '' ? `uid ${stat.uid}` : `${name} (uid ${stat.uid})`;
}
