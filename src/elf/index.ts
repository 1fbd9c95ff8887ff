export { isElf, readElf, readInterpreter } from './readElf.js';
export type { ElfInfo, ElfVersionNeed } from './readElf.js';
export { rewriteRunpath } from './rewriteRunpath.js';
export { glibcFloor, isLinkedElf, linkFacts } from './linkFacts.js';
export type { ElfFile, LinkFacts } from './linkFacts.js';
