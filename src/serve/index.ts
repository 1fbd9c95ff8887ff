export type { RunningServer, ServeOptions } from './startServer.js';
export { SERVE_DEFAULTS, startServer } from './startServer.js';
export type { Served } from './serveFile.js';
export { serveFile } from './serveFile.js';
export { requestPath } from './requestPath.js';
export { byteRange } from './httpRange.js';
export { accessLine } from './accessLog.js';
