export { isElf, readElf, readInterpreter } from './readElf.js';
export type { ElfInfo, ElfVersionNeed } from './readElf.js';
export { rewriteRunpath } from './rewriteRunpath.js';
