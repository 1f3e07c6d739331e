// The package's entry point (`import ... from 'waitfree'`): run a replica from code, and the
// client. Subpaths give the rest: 'waitfree/client', 'waitfree/recipes', 'waitfree/protocol'.
//
//   import { loadConfig, startServer } from 'waitfree';
//   const { config } = loadConfig({ flags: { client_port: 2181, data_dir: './data' } });
//   const server = await startServer(config);   // ... await server.stop();

export { startServer, type RunningServer } from './server/server.js';
export { loadConfig, type ConfigFlags, type LoadOptions, type LoadResult } from './config/load.js';
export type { ServerConfig } from './config/server_config.js';
export * from './client/index.js';
