export * from './prefixLayout.js';
export * from './prefixConfig.js';
