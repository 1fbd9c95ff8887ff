/** Builds from source: recipes, the ports tree, sources, the build runner and post-processing. */
export * from './recipe.js';
export { openPortsTree, loadRecipe, PORTS_CONFIG_FILE } from './portsTree.js';
export type { PortsTree, PortsConfig } from './portsTree.js';
export { fetchSource } from './fetchSource.js';
export type { FetchSourceOptions, FetchEvent } from './fetchSource.js';
export {
  buildEnvironment,
  makePlaceholder,
  optionVariable,
  PLACEHOLDER_LENGTH,
  CPU_FLAGS,
} from './buildEnvironment.js';
export { postProcess, relativeRunpath } from './postProcess.js';
export { DEFAULT_SYSTEM_LIBRARIES } from '../format/systemLibraries.js';
export type { PostProcessInput, PostProcessResult, LibraryProvider } from './postProcess.js';
export {
  buildPackage,
  defaultWorkDir,
  defaultCacheDir,
  defaultCpu,
  mergeDependencies,
  runnablePackages,
} from './buildPackage.js';
export type { BuildRequest, BuildOptions, BuildEvent, BuildResult, BuildStep } from './buildPackage.js';
export { lintRecipes } from './lintRecipes.js';
export type { LintProblem } from './lintRecipes.js';
export { bulkBuild, buildOrder, formatBulkReport } from './bulkBuild.js';
export type { BulkEntry, BulkOptions, BulkReport, BulkStatus } from './bulkBuild.js';
export { cleanInterrupted, BUILD_LOCK_FILE } from './cleanInterrupted.js';
export { ALLOW_UNSANDBOXED, probeSandbox, sandboxFlags } from './buildSandbox.js';
export type { BuildIsolation, SandboxProbe } from './buildSandbox.js';
export { toolchainPackages, TOOLCHAIN_ROOTS } from './toolchainPackages.js';
