import { advisoryAdder } from './repoAdvisoryAdd.js';

export default advisoryAdder(
  ['repo', 'advisory', 'import'],
  "import advisories from an OSV feed or pkgsrc's pkg-vulnerabilities list",
  [
    'kiln repo advisory import DIR FILE... [--format osv|pkgsrc]',
    '',
    "FILE is OSV JSON (a record or a list) or pkgsrc's pkg-vulnerabilities text (PATTERN TYPE URL lines; check",
    'its PGP signature first); the format is told from the text unless --format says. Lines of one CVE become',
    'one advisory. The next "kiln repo commit" publishes them.',
    'Example: kiln repo advisory import /srv/binhost pkg-vulnerabilities --format pkgsrc',
  ].join('\n'),
  true,
);
