export type { Advisory, AffectedPackage, RangeEvent, TriageRecord, TriageStatus } from './advisory.js';
export { ADVISORY_ID_PATTERN, TRIAGE_STATUSES, checkAdvisory, checkTriage } from './advisory.js';
export type { AdvisoryDocument } from './advisoryDocument.js';
export { advisoryDocument, encodeAdvisories, parseAdvisories } from './advisoryDocument.js';
export type { AdvisoryRule, AdvisoryTarget, Finding } from './findAdvisories.js';
export { advisoryRules, findAdvisories } from './findAdvisories.js';
export { importPkgsrc } from './importPkgsrc.js';
