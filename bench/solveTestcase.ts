/**
 * Writes a solver problem as a libsolv testcase, so that Debian's `testsolv`
 * (package libsolv-tools) solves the same problem as Kiln.
 *
 * The mapping, checked against testsolv 0.7.23:
 * - every package goes into the repo `available`; installed packages go
 *   also into the repo `system` (with the same metadata), and `solverflags
 *   allowdowngrade` lets libsolv move them to any version, as Kiln's "keep"
 *   does (the name stays present, at any version). libsolv never erases an
 *   installed package unless told to, which is Kiln's rule too. `job verify
 *   all packages` makes it hold installed packages to their dependencies, as
 *   Kiln does (by default libsolv leaves a broken installed package broken).
 * - versions must be plain (`1.0`, `2.10`): Debian and PMS order those the
 *   same way. Packages get no release (`-`) and arch `all` (disttype deb).
 * - a range maps clause by clause: `<`, `<=`, `=`, `>=`, `>` as they are,
 *   `!=V` as `(n < V | n > V)`; several clauses join with `+` (libsolv's
 *   "with": one package must match them all), e.g. `(n >= 1.0 + n < 2.0)`.
 * - `request.install` becomes `job install provides DEP`; `request.remove`
 *   becomes `job erase name N`.
 * - Kiln ignores a package's conflicts on its own name (one version per
 *   name already); they are left out here for the same reason.
 * - testtags without a `Ver:` line add each package's self-provide
 *   (`n = 1.0`), as Kiln's names do.
 */
import type { ProblemPackage, Requirement, SolverProblem } from '../src/solver/problem.js';
import type { RangeClause } from '../src/version/index.js';
import { formatVersion } from '../src/version/index.js';

const PLAIN_VERSION = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

function plainVersion(text: string): string {
  if (!PLAIN_VERSION.test(text))
    throw new Error(
      `libsolv testcase: version ${JSON.stringify(text)} is not plain (digits and dots); Debian and PMS may order it differently`,
    );
  return text;
}

function clauseDep(name: string, clause: RangeClause): string {
  const version = plainVersion(formatVersion(clause.version));
  switch (clause.operator) {
    case '<':
    case '<=':
    case '=':
    case '>=':
    case '>':
      return `${name} ${clause.operator} ${version}`;
    case '!=':
      return `(${name} < ${version} | ${name} > ${version})`;
    default:
      throw new Error(`libsolv testcase: range operator ${clause.operator} has no mapping`);
  }
}

/** A requirement as a libsolv dependency: `n`, `n >= 1.0`, `(n >= 1.0 + n < 2.0)`. */
export function libsolvDep(requirement: Requirement): string {
  const clauses = requirement.range.clauses;
  if (clauses.length === 0) return requirement.name;
  if (clauses.length === 1) return clauseDep(requirement.name, clauses[0] as RangeClause);
  return `(${clauses.map((clause) => clauseDep(requirement.name, clause)).join(' + ')})`;
}

function packageLines(pkg: ProblemPackage): string[] {
  const lines = [`#>=Pkg: ${pkg.name} ${plainVersion(formatVersion(pkg.version))} - all`];
  for (const requirement of pkg.depends) lines.push(`#>=Req: ${libsolvDep(requirement)}`);
  for (const requirement of pkg.conflicts)
    if (requirement.name !== pkg.name) lines.push(`#>=Con: ${libsolvDep(requirement)}`);
  for (const provide of pkg.provides) {
    lines.push(
      provide.version === undefined
        ? `#>=Prv: ${provide.name}`
        : `#>=Prv: ${provide.name} = ${plainVersion(formatVersion(provide.version))}`,
    );
  }
  return lines;
}

/**
 * The testcase text. `testsolv FILE` prints the transaction (`install …`,
 * `upgrade …`) or the problems (`problem …`) as a difference from the empty
 * result written here.
 */
export function formatLibsolvTestcase(problem: SolverProblem): string {
  const out: string[] = ['repo system 0 testtags <inline>'];
  const byName = new Map<string, ProblemPackage[]>();
  for (const pkg of problem.packages) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), pkg]);
  for (const entry of problem.installed) {
    const pkg = (byName.get(entry.name) ?? []).find(
      (candidate) => formatVersion(candidate.version) === formatVersion(entry.version),
    );
    if (pkg === undefined)
      throw new Error(`libsolv testcase: installed ${entry.name} ${formatVersion(entry.version)} is not in packages`);
    out.push(...packageLines(pkg));
  }
  out.push('repo available 0 testtags <inline>');
  for (const pkg of problem.packages) out.push(...packageLines(pkg));
  out.push('system x86_64 deb system', 'solverflags allowdowngrade');
  for (const requirement of problem.request.install) out.push(`job install provides ${libsolvDep(requirement)}`);
  for (const name of problem.request.remove) out.push(`job erase name ${name}`);
  // Kiln holds installed packages to their dependencies; libsolv leaves an installed package's broken dependencies alone unless asked to verify.
  if (problem.installed.length > 0) out.push('job verify all packages');
  out.push('result transaction,problems <inline>', '');
  return out.join('\n');
}
