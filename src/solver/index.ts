export * from './types.js';
export { detectHost, targetProblem } from './hostTarget.js';
export { X86_64_LEVELS, withCpuLevel, x86Levels } from './cpuLevel.js';
export type { CpuLevelSetting } from './cpuLevel.js';
export { parseRequest } from './parseRequest.js';
export type {
  SolverProblem,
  ProblemPackage,
  InstalledEntry,
  InstallRequest,
  Requirement,
  Provide,
  SolverConfig,
  BuildPolicy,
  PackageRole,
  PlanStep,
  StepSource,
  SolveResult,
  PlanEntry,
  Remote,
} from './problem.js';
export {
  parseProblem,
  readProblem,
  readInstallRequest,
  readOptionSettings,
  formatSettings,
  DEFAULT_CONFIG,
} from './problem.js';
export { solve, solveDetailed, solveOrThrow } from './pubgrub.js';
export type { DetailedResult, SolveStats } from './pubgrub.js';
export { Policy, problemSource } from './policy.js';
export type { CandidateSource, SolverCandidate, Exclusion } from './policy.js';
export { orderGraph } from './orderGraph.js';
export { verifyPlan } from './verifyPlan.js';
export { pubgrubResolver } from './pubgrubResolver.js';
