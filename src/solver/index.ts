export * from './types.js';
export { detectHost, targetProblem, x86Levels } from './hostTarget.js';
export { simpleResolver, orderByDependencies, parseRequest } from './simpleResolver.js';
